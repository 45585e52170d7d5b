"""Chinese wording for the content and programming services' messages.

Kept apart from ``domain_messages`` because these templates may name a
review or schedule state (``draft`` → 草稿): such words are translated only
for the patterns listed here, never inside user names or codes elsewhere.
"""

from __future__ import annotations

import re

STATE_NAMES = {
    "draft": "草稿",
    "submitted": "待初审",
    "level1": "待复审",
    "level2": "待终审",
    "approved": "已通过",
    "rejected": "已驳回",
    "revoked": "已撤销",
    "published": "已发布",
    "unpublished": "已撤回",
    "ended": "已结束",
}

_NOT_IN_REACH = "不存在或不在您的管辖区域内"

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"$"), template)
    for pattern, template in (
        (
            r"you already passed level (\d) of this asset; another reviewer must pass this level",
            "您已通过该素材的第 {0} 级审核，本级须由另一位审核员完成",
        ),
        (r"an asset in state (\w+) cannot be submitted", "“{0}”状态的素材不能提交审核"),
        (r"an asset in state (\w+) is not waiting for review", "该素材当前为“{0}”，不在待审状态"),
        (
            r"only approved assets can be revoked \(this one is (\w+)\)",
            "只有已通过的素材可以撤销（当前为“{0}”）",
        ),
        (r"a reason is required", "请填写原因"),
        (r"reason is longer than (\d+) characters", "原因不能超过 {0} 个字符"),
        (r".* needs the reviewer role", "您的角色无权执行此操作"),
        (r"ticker text must not be empty", "字幕内容不能为空"),
        (r"ticker text is longer than (\d+) characters", "字幕内容不能超过 {0} 个字符"),
        (r"stream URL is too long", "流地址过长"),
        (
            r"stream URL must be .* with a host",
            "流地址须为带主机名的 rtmp、rtsp、srt、udp、rtp 或 http(s) 地址",
        ),
        (r"name must be a file name, not a path", "名称须为文件名，不能是路径"),
        (r"name is empty after removing path and control characters", "名称不能为空"),
        (
            r"asset ['\"](.*)['\"] \((\w+)\) is (\w+), not approved",
            "素材“{0}”尚未通过三审（当前为“{2}”），不能编入节目单",
        ),
        (r"asset (\w+) not found", "素材 {0} " + _NOT_IN_REACH),
        (r"a playlist needs at least one item", "节目单至少需要一个条目"),
        (r"duration_ms must be between 1000 and 86400000", "时长须在 1 秒到 24 小时之间"),
        (r"a live stream item needs duration_ms", "直播流条目须填写时长"),
        (r"at least one target region is needed", "请至少填写一个目标区域"),
        (r"region (.*) not found", "区域 {0} " + _NOT_IN_REACH),
        (r"emergency is reserved for alerts", "应急优先级仅用于应急预警"),
        (r"ends_at must be after starts_at", "结束时间须晚于开始时间"),
        (r"times need a UTC offset", "时间须带时区"),
        (r"invalid RRULE: (.*)", "重复规则无效：{0}"),
        (r"rrule must be a non-empty RRULE body", "重复规则不能为空"),
        (r"'(.*)' is not a time of day HH:MM", "“{0}”不是 HH:MM 格式的时间"),
        (r"a daily window needs both a start and an end", "每日时段须同时填写开始和结束"),
        (r"a date and time is required", "请填写日期和时间"),
        (r"not a date and time: (.*)", "日期时间格式无效：{0}"),
        (r"choose a playlist", "请选择节目单"),
        (r"priority must be one of (.*)", "优先级须为以下之一：{0}"),
        (r"a (\w+) schedule cannot be published", "“{0}”状态的排期不能发布"),
        (r"a (\w+) schedule cannot be unpublished", "“{0}”状态的排期不能撤回"),
        (r"file is larger than the limit of (\d+) bytes", "文件超过大小上限（{0} 字节）"),
        (r"Upload-Length must be positive", "文件为空"),
        (r"Upload-Offset must be (\d+)", "上传位置不符，应从第 {0} 字节继续"),
        (r"more bytes than Upload-Length", "上传的数据多于声明的文件大小"),
        (r"Upload-Metadata .* is not base64 UTF-8", "文件名编码无效"),
        (r"the file is empty", "文件为空"),
        (r"unsupported or unreadable media: (.*)", "不支持或无法读取的媒体文件：{0}"),
    )
)


def content_in_chinese(message: str) -> str | None:
    """``message`` in Chinese when it is one of the content patterns, else None."""
    for pattern, template in PATTERNS:
        found = pattern.match(message)
        if found:
            return template.format(*(STATE_NAMES.get(g, g) for g in found.groups()))
    return None
