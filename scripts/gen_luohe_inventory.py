"""Generate the shipped Luohe inventory (inventory/*.yml) from the unit lists below.

The inventory was produced once by this script and is the source of truth from then on;
rerun it only to rebuild the site from scratch (it overwrites inventory/*.yml and
inventory/units/*.yml). Unit names follow the city's structure in the 2006 work report
(../shared/seed/); people's names and registration numbers are invented.
"""

from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "inventory")
rng = random.Random(4111)  # noqa: S311 - invented names, not secrets; Luohe's administrative prefix

# (name, slug, kind, flags) — flags: "i" intranet only, "x<N>" extranet wave N, "c" Cisco, "sys" info-sharing agency
CITY: list[tuple[str, str, str, str]] = [
    ("中共漯河市委办公室", "shiwei-ban", "city-office", "x1"),
    ("漯河市人民政府办公室", "shizhengfu-ban", "city-office", "x1"),
    ("漯河市人大常委会办公室", "renda-ban", "city-office", "x2"),
    ("政协漯河市委员会办公室", "zhengxie-ban", "city-office", "x2"),
    ("漯河市信息化办公室", "xinxihua-ban", "city-office", "x1"),
    ("中共漯河市委政策研究室", "zhengce-yanjiushi", "city-office", ""),
    ("漯河市人民政府研究室", "zhengfu-yanjiushi", "city-office", "x3"),
    ("中共漯河市纪律检查委员会", "jiwei", "party-organ", ""),
    ("中共漯河市委组织部", "zuzhibu", "party-organ", ""),
    ("中共漯河市委宣传部", "xuanchuanbu", "party-organ", ""),
    ("中共漯河市委统战部", "tongzhanbu", "party-organ", ""),
    ("中共漯河市委政法委员会", "zhengfawei", "party-organ", ""),
    ("漯河市机构编制委员会办公室", "bianban", "party-organ", ""),
    ("中共漯河市直属机关工作委员会", "jiguan-gongwei", "party-organ", ""),
    ("中共漯河市委党校", "dangxiao", "party-organ", ""),
    ("中共漯河市委老干部局", "laoganbu", "party-organ", ""),
    ("中共漯河市委机要局", "jiyaoju", "party-organ", ""),
    ("漯河市国家保密局", "baomiju", "party-organ", ""),
    ("中共漯河市委台湾工作办公室", "taiban", "party-organ", ""),
    ("中共漯河市委督查室", "duchashi", "party-organ", ""),
    ("中共漯河市委农村工作办公室", "nongban", "party-organ", ""),
    ("中共漯河市委党史研究室", "dangshi", "party-organ", ""),
    ("漯河市档案局", "danganju", "party-organ", "x4"),
    ("漯河市发展和改革委员会", "fagaiwei", "bureau", "x1"),
    ("漯河市教育局", "jiaoyu", "bureau", "x2"),
    ("漯河市科学技术局", "keji", "bureau", "x2"),
    ("漯河市工业局", "gongye", "bureau", "x2"),
    ("漯河市民族宗教事务局", "minzong", "bureau", "x4"),
    ("漯河市公安局", "gongan", "bureau", "c"),
    ("漯河市监察局", "jianchaju", "bureau", ""),
    ("漯河市民政局", "minzheng", "bureau", "x2"),
    ("漯河市司法局", "sifa", "bureau", "x3"),
    ("漯河市财政局", "caizheng", "bureau", "x1"),
    ("漯河市人事局", "renshi", "bureau", "x1"),
    ("漯河市劳动和社会保障局", "laodong", "bureau", "x1"),
    ("漯河市国土资源局", "guotu", "bureau", "x2"),
    ("漯河市建设局", "jianshe", "bureau", "x2"),
    ("漯河市城乡规划局", "guihua", "bureau", "x2"),
    ("漯河市交通局", "jiaotong", "bureau", "x2"),
    ("漯河市水利局", "shuili", "bureau", "x3"),
    ("漯河市农业局", "nongye", "bureau", "x2"),
    ("漯河市林业局", "linye", "bureau", "x3"),
    ("漯河市畜牧局", "xumu", "bureau", "x3"),
    ("漯河市商务局", "shangwu", "bureau", "x2"),
    ("漯河市文化局", "wenhua", "bureau", "x3"),
    ("漯河市卫生局", "weisheng", "bureau", "x2"),
    ("漯河市人口和计划生育委员会", "jisheng", "bureau", "x3"),
    ("漯河市审计局", "shenji", "bureau", "x1"),
    ("漯河市环境保护局", "huanbao", "bureau", "x2"),
    ("漯河市统计局", "tongji", "bureau", "x2"),
    ("漯河市体育局", "tiyu", "bureau", "x4"),
    ("漯河市旅游局", "lvyou", "bureau", "x4"),
    ("漯河市粮食局", "liangshi", "bureau", "x3"),
    ("漯河市物价局", "wujia", "bureau", "x2"),
    ("漯河市安全生产监督管理局", "anjian", "bureau", "x2"),
    ("漯河市食品药品监督管理局", "shiyaojian", "bureau", "x2"),
    ("漯河市工商行政管理局", "gongshang", "bureau", "x1 sys"),
    ("漯河市国家税务局", "guoshui", "bureau", "x1 c sys"),
    ("漯河市地方税务局", "dishui", "bureau", "x1 c sys"),
    ("漯河市质量技术监督局", "zhijian", "bureau", "x1 sys"),
    ("漯河市人民防空办公室", "renfang", "bureau", ""),
    ("漯河市人民政府法制办公室", "fazhi", "bureau", "x3"),
    ("漯河市信访局", "xinfang", "bureau", "x3"),
    ("漯河市外事侨务办公室", "waiqiao", "bureau", "x4"),
    ("漯河市机关事务管理局", "jiguan-shiwu", "bureau", "x4"),
    ("漯河市房产管理局", "fangguan", "bureau", "x3"),
    ("漯河市城市管理局", "chengguan", "bureau", "x3"),
    ("漯河市国有资产监督管理委员会", "guoziwei", "bureau", "x2"),
    ("漯河市招商局", "zhaoshang", "bureau", "x4"),
    ("漯河市扶贫开发办公室", "fupin", "bureau", "x4"),
    ("漯河市农业机械管理局", "nongji", "bureau", "x4"),
    ("漯河市供销合作社", "gongxiaoshe", "bureau", ""),
    ("漯河市移民工作办公室", "yimin", "bureau", ""),
    ("漯河市广播电视局", "guangdian", "bureau", "x4"),
    ("漯河市中级人民法院", "zhongyuan", "judicial", "c"),
    ("漯河市人民检察院", "jianchayuan", "judicial", "c"),
    ("漯河市总工会", "zonggonghui", "mass-org", ""),
    ("共青团漯河市委员会", "tuanshiwei", "mass-org", ""),
    ("漯河市妇女联合会", "fulian", "mass-org", ""),
    ("漯河市科学技术协会", "kexie", "mass-org", ""),
    ("漯河市文学艺术界联合会", "wenlian", "mass-org", ""),
    ("漯河市工商业联合会", "gongshanglian", "mass-org", ""),
    ("漯河市残疾人联合会", "canlian", "mass-org", ""),
    ("漯河市红十字会", "hongshizihui", "mass-org", ""),
    ("漯河市气象局", "qixiang", "agency", "i x4"),
    ("漯河市地震局", "dizhen", "agency", "i"),
    ("国家统计局漯河调查队", "diaochadui", "agency", "i x4"),
    ("漯河市政府采购中心", "caigou", "agency", "i x2"),
    ("漯河市住房公积金管理中心", "gongjijin", "agency", "i x3"),
    ("漯河市邮政局", "youzheng", "agency", "i"),
    ("漯河市烟草专卖局", "yancao", "agency", "i"),
    ("漯河供电公司", "gongdian", "agency", "i"),
    ("中国人民银行漯河市中心支行", "renhang", "agency", "i c"),
    ("漯河市社会保险事业管理中心", "shebao", "agency", "i x3"),
    ("漯河市疾病预防控制中心", "jikong", "agency", "i x3"),
    ("漯河市行政服务中心", "xingzheng-fuwu", "agency", "i x2"),
]

# area code, Chinese name, ASCII name, kind, platform of its access devices, townships (name, slug)
AREAS = [
    (
        "yh",
        "源汇区",
        "yuanhui",
        "district",
        "huawei_vrp",
        [
            ("马路街街道", "malujie"),
            ("顺河街街道", "shunhejie"),
            ("老街街道", "laojie"),
            ("大刘镇", "daliu"),
            ("空冢郭镇", "kongzhongguo"),
        ],
    ),
    (
        "yc",
        "郾城区",
        "yancheng",
        "district",
        "huawei_vrp",
        [
            ("城关镇", "chengguan"),
            ("孟庙镇", "mengmiao"),
            ("商桥镇", "shangqiao"),
            ("裴城镇", "peicheng"),
            ("新店镇", "xindian"),
        ],
    ),
    (
        "zl",
        "召陵区",
        "zhaoling",
        "district",
        "huawei_vrp",
        [
            ("天桥街道", "tianqiao"),
            ("翟庄街道", "zhaizhuang"),
            ("召陵镇", "zhaolingzhen"),
            ("邓襄镇", "dengxiang"),
            ("万金镇", "wanjin"),
        ],
    ),
    (
        "wy",
        "舞阳县",
        "wuyang",
        "county",
        "h3c_comware",
        [
            ("舞泉镇", "wuquan"),
            ("吴城镇", "wucheng"),
            ("北舞渡镇", "beiwudu"),
            ("莲花镇", "lianhua"),
            ("辛安镇", "xinan"),
        ],
    ),
    (
        "ly",
        "临颍县",
        "linying",
        "county",
        "h3c_comware",
        [
            ("城关镇", "chengguan"),
            ("繁城镇", "fancheng"),
            ("杜曲镇", "duqu"),
            ("王岗镇", "wanggang"),
            ("台陈镇", "taichen"),
        ],
    ),
]
AREA_UNITS = [
    ("委", "quwei", "x3"),
    ("人民政府", "zhengfu", "x3"),
    ("人大常委会", "renda", ""),
    ("政协", "zhengxie", ""),
    ("纪委", "jiwei", ""),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国伟军明华平志强新红国庆海文杰丽敏静秀英玉兰桂芳霞东晓春立永德忠振宏涛斌亮"
PLATFORM_MODEL = {
    "huawei_vrp": "S5720-28X-SI-AC",
    "h3c_comware": "S5130-28S-SI",
    "cisco_ios": "WS-C2960X-24TS-L",
}
UPLINK = {
    "huawei_vrp": "GigabitEthernet0/0/24",
    "h3c_comware": "GigabitEthernet1/0/24",
    "cisco_ios": "GigabitEthernet1/0/24",
}
VLANIF = {"huawei_vrp": "Vlanif{}", "h3c_comware": "Vlan-interface{}", "cisco_ios": "Vlan{}"}


def person() -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def paperwork(index: int, missing: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "registration" not in missing:
        month, day = 1 + index % 6, 1 + (index * 7) % 28
        out["registration"] = {"number": f"漯信安备〔2006〕{index + 1:03d}号", "date": date(2006, month, day)}
    if "agreement" not in missing:
        month, day = 3 + index % 4, 1 + (index * 11) % 28
        out["agreement"] = {"signed": date(2006, month, day), "signatory": person()}
    return out


def main() -> None:
    units_by_file: dict[str, list[dict[str, Any]]] = {"city": []}
    index = 0
    # Paperwork still outstanding at mid-year (the report: agreements are being signed unit by unit).
    no_agreement = {"yimin", "gongxiaoshe", "xiangqi", "ly-taichen", "wy-xinan", "zl-wanjin"}
    no_registration = {"renfang", "yancao", "ly-wanggang"}
    vlan_next: dict[str, int] = {}

    def unit(
        uid: str,
        name: str,
        slug: str,
        kind: str,
        parent: str,
        platform: str,
        flags: str,
        party: bool,
        intranet: bool,
    ) -> dict[str, Any]:
        nonlocal index
        index += 1
        k = index  # /24 index inside each segment's plan
        seq = vlan_next.get(parent, 1)
        vlan_next[parent] = seq + 1
        vif = VLANIF[platform]
        segments: dict[str, Any] = {}
        if intranet:
            segments["intranet"] = {
                "address": f"10.111.{k}.1/24",
                "vlan": 100 + seq,
                "interface": vif.format(100 + seq),
            }
        if party:
            segments["party"] = {
                "address": f"10.112.{k}.1/24",
                "vlan": 1100 + seq,
                "interface": vif.format(1100 + seq),
            }
        wave = next((int(f[1:]) for f in flags.split() if f.startswith("x")), None)
        if wave is not None:
            segments["extranet"] = {
                "address": f"172.26.{k}.1/24",
                "vlan": 2100 + seq,
                "wave": wave,
                "interface": vif.format(2100 + seq),
            }
        area_octet = {"sz": 10, "yh": 20, "yc": 30, "zl": 40, "wy": 50, "ly": 60}[
            uid.split("-", maxsplit=1)[0]
        ]
        host = f"10.41.{area_octet + (k // 200)}.{10 + k % 200}"
        entry: dict[str, Any] = {"id": uid, "name": name, "slug": slug, "kind": kind, "groups": []}
        entry["groups"].append(
            {"huawei_vrp": "huawei-access", "h3c_comware": "h3c-access", "cisco_ios": "cisco-access"}[
                platform
            ]
        )
        entry["parent"] = parent
        entry["segments"] = segments
        entry["devices"] = [{"name": f"LH-{slug.upper()}-AS01", "host": host}]
        missing = {
            m
            for m, ids in (("agreement", no_agreement), ("registration", no_registration))
            if uid.split("-", 1)[1] in ids or uid in ids
        }
        entry.update(paperwork(k, missing))
        if "sys" in flags.split():
            entry["services"] = [{"name": "info-share", "port": 8443, "segment": "extranet"}]
        return entry

    city_parents = ["agg-shizhi-a", "agg-shizhi-b"]
    for position, (name, slug, kind, flags) in enumerate(CITY):
        platform = "cisco_ios" if "c" in flags.split() else "huawei_vrp"
        intranet_only = "i" in flags.split()
        units_by_file["city"].append(
            unit(
                f"sz-{slug}",
                name,
                slug,
                kind,
                city_parents[position % 2],
                platform,
                flags,
                party=not intranet_only,
                intranet=True,
            )
        )
    for code, area, ascii_name, kind, platform, towns in AREAS:
        rows = units_by_file.setdefault(ascii_name, [])
        for suffix, slug, flags in AREA_UNITS:
            name = f"中共{area}委员会" if slug == "quwei" else f"{area}{suffix}"
            slug_full = f"{ascii_name}-{'xianwei' if kind == 'county' and slug == 'quwei' else slug}"
            uid = f"{code}-{'xianwei' if kind == 'county' and slug == 'quwei' else slug}"
            rows.append(
                unit(
                    uid,
                    name,
                    slug_full,
                    kind,
                    f"agg-{ascii_name}",
                    platform,
                    flags,
                    party=True,
                    intranet=True,
                )
            )
        for town, slug in towns:
            rows.append(
                unit(
                    f"{code}-{slug}",
                    f"中共{area}{town}委员会",
                    f"{ascii_name}-{slug}",
                    "township",
                    f"agg-{ascii_name}",
                    "h3c_comware",
                    "",
                    party=True,
                    intranet=False,
                )
            )
    intranet = sum(1 for rows in units_by_file.values() for u in rows if "intranet" in u["segments"])
    party = sum(1 for rows in units_by_file.values() for u in rows if "party" in u["segments"])
    assert (intranet, party) == (121, 134), (intranet, party)
    write(OUT / "site.yml", SITE_HEADER, site())
    write(
        OUT / "topology.yml",
        "# The city core, the aggregation nodes units hang off, and the links leaving the city.\n",
        topology(),
    )
    write(
        OUT / "systems.yml",
        "# Application systems shared between agencies over the extranet (企业基础信息共享).\n",
        systems(units_by_file),
    )
    for file, rows in units_by_file.items():
        write(OUT / "units" / f"{file}.yml", f"# Units: {file}\n", {"units": rows})
    print(
        f"wrote {OUT}: intranet {intranet}, party {party}, units {sum(len(r) for r in units_by_file.values())}"
    )


SITE_HEADER = """\
# The Luohe site: address plans of the three segments, defaults and groups.
# Credentials and SNMP keys are references (env:NAME or file:PATH), never the secrets themselves.
"""


def site() -> dict[str, Any]:
    return {
        "site": {
            "name": "漯河市",
            "slug": "luohe",
            "code": "411100",
            "operator": "漯河市信息化办公室",
            "management": ["10.41.0.0/16"],
            "timezone": "Asia/Shanghai",
            "syslog": ["10.41.0.100"],
            "ntp": ["10.41.0.101", "10.41.0.102"],
        },
        "segments": {
            "intranet": {
                "description": "电子政务内网 (e-government intranet)",
                "supernets": ["10.111.0.0/16"],
                "vrf": "INTRANET",
                "vlans": {"first": 101, "last": 999},
            },
            "party": {
                "description": "党务网 (party network, classified, isolated on the intranet platform)",
                "supernets": ["10.112.0.0/16"],
                "vrf": "PARTY",
                "vlans": {"first": 1101, "last": 1999},
                "interconnect": ["10.250.41.0/30"],
            },
            "extranet": {
                "description": "电子政务外网 (e-government extranet, built by the city carrier)",
                "supernets": ["172.26.0.0/16"],
                "vrf": "EXTRANET",
                "vlans": {"first": 2101, "last": 2999},
            },
        },
        "defaults": {
            "device": {
                "credentials": {
                    "username": "govnet",
                    "password": "env:GOVNET_SSH_PASSWORD",
                    "enable": "env:GOVNET_ENABLE_SECRET",
                },
                "snmp": {
                    "version": "v3",
                    "user": "govnet-mon",
                    "auth_protocol": "sha",
                    "auth_key": "env:GOVNET_SNMP_AUTH_KEY",
                    "priv_protocol": "aes",
                    "priv_key": "env:GOVNET_SNMP_PRIV_KEY",
                },
            },
        },
        "groups": {
            "access": {"device": {"role": "access"}},
            "huawei-access": {
                "groups": ["access"],
                "device": {
                    "platform": "huawei_vrp",
                    "model": PLATFORM_MODEL["huawei_vrp"],
                    "uplink": UPLINK["huawei_vrp"],
                    "interfaces": [UPLINK["huawei_vrp"]],
                },
            },
            "h3c-access": {
                "groups": ["access"],
                "device": {
                    "platform": "h3c_comware",
                    "model": PLATFORM_MODEL["h3c_comware"],
                    "uplink": UPLINK["h3c_comware"],
                    "interfaces": [UPLINK["h3c_comware"]],
                },
            },
            "cisco-access": {
                "groups": ["access"],
                "device": {
                    "platform": "cisco_ios",
                    "model": PLATFORM_MODEL["cisco_ios"],
                    "uplink": UPLINK["cisco_ios"],
                    "interfaces": [UPLINK["cisco_ios"]],
                },
            },
        },
    }


def topology() -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {
            "id": "core-city",
            "name": "市电子政务网络中心核心",
            "slug": "city-core",
            "kind": "core",
            "segments": {
                "intranet": {"address": "10.111.250.1/32"},
                "party": {"address": "10.112.250.1/32"},
                "extranet": {"address": "172.26.250.1/32"},
            },
            "devices": [
                {
                    "name": "LH-CORE-01",
                    "role": "core",
                    "platform": "huawei_vrp",
                    "model": "S12708",
                    "host": "10.41.0.1",
                    "uplink": "Eth-Trunk1",
                    "interfaces": ["XGigabitEthernet1/0/1", "XGigabitEthernet2/0/1"],
                }
            ],
        }
    ]
    aggs = [
        ("agg-shizhi-a", "市直汇聚节点A", "shizhi-a", "huawei_vrp"),
        ("agg-shizhi-b", "市直汇聚节点B", "shizhi-b", "huawei_vrp"),
    ]
    aggs += [(f"agg-{a}", f"{n}汇聚节点", a, p) for _, n, a, _, p, _ in AREAS]
    for j, (nid, name, slug, platform) in enumerate(aggs, start=2):
        model = "S6720-30C-EI" if platform == "huawei_vrp" else "S7506E"
        uplink = "XGigabitEthernet0/0/1" if platform == "huawei_vrp" else "Ten-GigabitEthernet1/0/1"
        nodes.append(
            {
                "id": nid,
                "name": name,
                "slug": slug,
                "kind": "aggregation",
                "parent": "core-city",
                "segments": {
                    "intranet": {"address": f"10.111.250.{j}/32"},
                    "party": {"address": f"10.112.250.{j}/32"},
                    "extranet": {"address": f"172.26.250.{j}/32"},
                },
                "devices": [
                    {
                        "name": f"LH-AGG-{slug.upper()}",
                        "role": "aggregation",
                        "platform": platform,
                        "model": model,
                        "host": f"10.41.0.{j}",
                        "uplink": uplink,
                        "interfaces": [uplink],
                    }
                ],
            }
        )
    uplinks = [
        {
            "id": "province-party",
            "name": "省委党务网互联链路",
            "segment": "party",
            "node": "core-city",
            "interface": "GigabitEthernet3/0/1",
            "local": "10.250.41.1/30",
            "remote": "10.250.41.2",
            "vlan": 1999,
            "provider": "河南省委机要局",
            "bandwidth_mbps": 10,
        }
    ]
    return {"nodes": nodes, "uplinks": uplinks}


def systems(units_by_file: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    agencies = {
        "gongshang": "工商企业登记信息系统",
        "guoshui": "国税税务登记信息系统",
        "dishui": "地税税务登记信息系统",
        "zhijian": "组织机构代码信息系统",
    }
    city = {u["slug"]: u for u in units_by_file["city"]}
    rows = []
    for slug, name in agencies.items():
        k = city[slug]["segments"]["extranet"]["address"].split(".")[2]
        rows.append(
            {
                "id": f"sys-{slug}",
                "name": name,
                "agency": f"sz-{slug}",
                "segment": "extranet",
                "host": f"172.26.{k}.10",
                "services": [{"name": "info-share", "port": 8443}, {"name": "db-sync", "port": 1521}],
                "consumers": [f"sz-{o}" for o in agencies if o != slug],
            }
        )
    return {"systems": rows}


def write(path: Path, header: str, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=140)
    path.write_text(header + text, encoding="utf-8")


if __name__ == "__main__":
    main()
