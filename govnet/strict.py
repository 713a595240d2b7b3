"""The one base of every model govnet reads from a file a person wrote (inventory, daemon config,
probe settings, web config, saved plans): an unknown key is an error (a typo must never be
ignored), values are frozen once read, and a rejected value is not echoed into the message (it
may be a secret). Each problem becomes one ``FILE:LINE: field: message`` line
(``govnet.inventory.problems``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
