"""CAP 1.2 sample messages, written the way real senders write them.

``SAMPLES`` maps a file name to the document; ``write_samples(dir)`` puts
them on disk for tests that read files (as ``lianbo alert send`` will).
"""

from __future__ import annotations

from pathlib import Path

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER = "cma-sichuan@gov.cn"
SENT = "2026-07-10T14:00:00+08:00"


def _wrap(head: str, *infos: str) -> str:
    body = "".join(infos)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="{NS}">{head}{body}</alert>\n'


def head(
    identifier: str = "SC-2026-0710-001",
    *,
    status: str = "Actual",
    msg_type: str = "Alert",
    scope: str = "Public",
    extra: str = "",
    sent: str = SENT,
    source: str = "",
) -> str:
    """The alert header: identifier .. scope (+ ``extra`` elements)."""
    return (
        f"<identifier>{identifier}</identifier><sender>{SENDER}</sender><sent>{sent}</sent>"
        f"<status>{status}</status><msgType>{msg_type}</msgType>{source}<scope>{scope}</scope>{extra}"
    )


def info(
    language: str = "zh-CN",
    *,
    severity: str = "Severe",
    areas: str = "",
    event: str = "暴雨",
    headline: str = "成都市气象台发布暴雨橙色预警",
    extra: str = "",
    expires: str = "2026-07-11T14:00:00+08:00",
) -> str:
    """One info block."""
    return (
        f"<info><language>{language}</language><category>Met</category><event>{event}</event>"
        f"<responseType>Prepare</responseType><urgency>Expected</urgency>"
        f"<severity>{severity}</severity><certainty>Likely</certainty>"
        f"<eventCode><valueName>GB/T 28594</valueName><value>11B03</value></eventCode>"
        f"<onset>2026-07-10T15:00:00+08:00</onset><expires>{expires}</expires>"
        f"<senderName>四川省气象台</senderName><headline>{headline}</headline>"
        f"<description>预计未来6小时降雨量将达50毫米以上。</description>"
        f"<instruction>请避免前往低洼地带。</instruction>{extra}{areas}</info>"
    )


CHENGDU_POLY = "30.5,103.9 30.5,104.2 30.8,104.2 30.8,103.9 30.5,103.9"
DEYANG_POLY = "31.0,104.2 31.0,104.5 31.3,104.5 31.3,104.2 31.0,104.2"
AREA_CHENGDU = (
    f"<area><areaDesc>成都市中心城区</areaDesc><polygon>{CHENGDU_POLY}</polygon>"
    f"<polygon>{DEYANG_POLY}</polygon><circle>30.66,104.06 10</circle>"
    "<geocode><valueName>GB/T2260</valueName><value>510104</value></geocode>"
    "<geocode><valueName>SAME</valueName><value>006113</value></geocode></area>"
)
AREA_REGIONS = (
    "<area><areaDesc>绵阳市; 德阳市</areaDesc>"
    "<geocode><valueName>GB/T 2260</valueName><value>510700</value></geocode>"
    "<geocode><valueName>GBT2260</valueName><value>5106</value></geocode></area>"
)
RESOURCE = (
    "<resource><resourceDesc>语音播报</resourceDesc><mimeType>audio/mpeg</mimeType>"
    "<size>48213</size><uri>https://alerts.example.cn/a/001.mp3</uri>"
    "<digest>2fd4e1c67a2d28fced849ee1bb76e7391b93eb12</digest></resource>"
)
PARAMS = "<parameter><valueName>预警级别</valueName><value>橙色</value></parameter>"

REF = f"{SENDER},SC-2026-0710-001,{SENT}"

SAMPLES: dict[str, str] = {
    "alert_multilang.xml": _wrap(
        head(
            source="<source>四川省突发事件预警信息发布中心</source>",
            extra="<code>IPAWSv1.0</code>"
            '<note>多语言示例</note><incidents>SC-RAIN-2026 "rain 7"</incidents>',
        ),
        info("zh-CN", areas=AREA_CHENGDU + AREA_REGIONS, extra=PARAMS + RESOURCE),
        info(
            "en-US",
            headline="Chengdu: orange rainstorm warning",
            event="Rainstorm",
            areas=AREA_CHENGDU + AREA_REGIONS,
        ),
    ),
    "update.xml": _wrap(
        head(
            "SC-2026-0710-002",
            msg_type="Update",
            extra=f"<references>{REF}</references>",
            sent="2026-07-10T16:00:00+08:00",
        ),
        info(severity="Extreme", headline="暴雨红色预警", areas=AREA_CHENGDU),
    ),
    "cancel.xml": _wrap(
        head(
            "SC-2026-0710-003",
            msg_type="Cancel",
            sent="2026-07-10T20:00:00+08:00",
            extra=f"<references>{REF} {SENDER},SC-2026-0710-002,2026-07-10T16:00:00+08:00"
            "</references>",
        ),
        info(severity="Minor", headline="解除暴雨预警", areas=AREA_REGIONS),
    ),
    "exercise_restricted.xml": _wrap(
        head(
            "EX-1",
            status="Exercise",
            scope="Restricted",
            extra="<restriction>应急管理部门内部演练</restriction>",
        ),
        info(severity="Moderate", areas=AREA_REGIONS),
    ),
    "test_private.xml": _wrap(
        head(
            "T-1",
            status="Test",
            scope="Private",
            extra='<addresses>ops@lianbo "duty desk"</addresses>',
        ),
    ),
    "system_ack.xml": _wrap(
        head("S-1", status="System", msg_type="Ack", extra=f"<references>{REF}</references>"),
    ),
    "draft_unknown.xml": _wrap(
        head("D-1", status="Draft", sent="2026-07-10T06:00:00-00:00"),
        info(severity="Unknown", areas=AREA_CHENGDU),
    ),
}


def write_samples(directory: Path) -> dict[str, Path]:
    """Write every sample into ``directory``; name → path."""
    paths = {}
    for name, text in SAMPLES.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths
