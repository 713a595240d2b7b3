"""govnet: roll out and watch a city's government networks from one YAML inventory."""

import warnings

__version__ = "0.1.0"

# asyncssh (the lab's device simulator) still names DSA key types, and cryptography >= 47 warns
# about that at import time: a library's note to its developers, not to our users, and it would
# turn every one-line error of the lab commands into several.
warnings.filterwarnings("ignore", message=r"DSA is deprecated", module=r"asyncssh(\.|$)")
