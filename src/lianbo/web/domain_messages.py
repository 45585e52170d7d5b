"""Chinese wording for the domain's error messages.

The domain and services speak English (the API and logs use it as is).
The console shows operators Chinese by default, so the messages they meet
while filling forms are matched here by pattern; anything not listed falls
through unchanged, which is better than hiding it.
"""

from __future__ import annotations

import re

from lianbo.web.content_messages import content_in_chinese

FIELD_NAMES = {
    "name": "名称",
    "tier": "类型",
    "region": "区域",
    "latitude": "纬度",
    "longitude": "经度",
    "tags": "标签",
    "groups": "分组",
    "file": "文件",
    "value": "值",
    "code": "代码",
    "role": "角色",
}

# (pattern, Chinese template); groups are passed to the template in order.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"$"), template)
    for pattern, template in (
        (r"name must not be empty", "名称不能为空"),
        (r"name is longer than (\d+) characters", "名称不能超过 {0} 个字符"),
        (r"name must be 1-(\d+) characters", "名称须为 1–{0} 个字符"),
        (r"latitude must be between -90 and 90", "纬度须在 -90 到 90 之间"),
        (r"longitude must be between -180 and 180", "经度须在 -180 到 180 之间"),
        (r"not a number: (.*)", "不是有效数字：{0}"),
        (r"not a region code: (.*)", "不是有效的区划代码：{0}"),
        (r"unknown region code (.*)", "区划代码 {0} 不存在或不在您的管辖区域内"),
        (r"region (\S+) is outside jurisdiction (\S+)", "区划 {0} 不在管辖区域 {1} 内"),
        (r"region code is required", "请填写区划代码"),
        (r"tier must be one of (.*)", "类型须为以下之一：{0}"),
        (r"role must be one of (.*)", "角色须为以下之一：{0}"),
        (r"a terminal named (.*) exists in this region", "该区域内已有名为 {0} 的终端"),
        (r"a retired terminal cannot be (changed|enrolled)", "已退役的终端不能再修改或注册"),
        (r"username (.*) is taken", "用户名 {0} 已被占用"),
        (r"username must be 2-64 .*", "用户名须为 2–64 位字母、数字、_ . -"),
        (r"password must be (\d+)-(\d+) characters", "密码须为 {0}–{1} 个字符"),
        (r"you cannot deactivate yourself", "不能停用自己的账号"),
        (r"region (\d+) exists", "区域 {0} 已存在"),
        (r"parent region (\d+) is unknown", "上级区域 {0} 不存在"),
        (
            r"only 9-digit townships and 12-digit villages can be added",
            "只能添加 9 位乡镇或 12 位村社区代码",
        ),
        (r"code must extend a county or township code", "代码须在区县或乡镇代码后加 3 位"),
        (r"CSV has no rows", "CSV 文件没有数据行"),
        (r"CSV has more than (\d+) rows", "CSV 文件超过 {0} 行"),
        (r"CSV header lacks column\(s\): (.*)", "CSV 表头缺少列：{0}"),
        (r"CSV is larger than 20 MB", "CSV 文件超过 20 MB"),
        (r"request body is too large", "上传内容过大"),
        (r"CSV must be UTF-8 text", "CSV 文件须为 UTF-8 编码"),
        (r"multipart field 'file' is missing", "请选择要上传的文件"),
        (r"more cells than header columns", "单元格数多于表头列数"),
        (r"at most (\d+) (\w+)", "{1} 最多 {0} 个"),
        (r"(\w+) entry longer than (\d+) characters", "{0} 的每一项不能超过 {1} 个字符"),
        (r"not a date \(YYYY-MM-DD\): (.*)", "日期格式应为 YYYY-MM-DD：{0}"),
        (r"entry (\d+) is missing \(deleted\)", "记录 #{0} 缺失（已被删除）"),
        (r"entry (\d+) does not link to entry (\d+)", "记录 #{0} 与记录 #{1} 的哈希链接不符"),
        (r"entry (\d+) was edited", "记录 #{0} 已被篡改"),
        (
            r"entr(?:y|ies) ([\d-]+) (?:is|are) missing: the anchor of (.*) signed seq (\d+) "
            r"but the chain ends at (\d+)",
            "记录 {0} 缺失：{1} 的锚点签署了记录 #{2}，但哈希链只到 #{3}",
        ),
        (
            r"entr(?:y|ies) ([\d-]+) (?:is|are) missing: the anchor of (.*) signed seq (\d+) "
            r"but the chain is empty",
            "记录 {0} 缺失：{1} 的锚点签署了记录 #{2}，但哈希链为空",
        ),
        (
            r"entr(?:y|ies) ([\d-]+) differs? from the anchored chain: the anchor of (.*) "
            r"signed seq (\d+) with another hash",
            "记录 {0} 与锚定的哈希链不符：{1} 的锚点签署的记录 #{2} 哈希不同",
        ),
        (r"anchor line (\d+) is not a readable anchor", "锚点日志第 {0} 行无法读取"),
        (
            r"anchor line (\d+) is not signed by a control-centre key \(forged or altered\)",
            "锚点日志第 {0} 行不是播控中心密钥签署的（伪造或被改动）",
        ),
        (
            r"([\w.\-]+) contains a control character \((U\+[0-9A-F]{4,6})\)",
            "{0} 含有不允许的控制字符（{1}）",
        ),
        (r"(\w+) not found", "未找到"),
        (r"no key (\w+) in the key set", "密钥集中没有密钥 {0}"),
        (r"the active key cannot be retired; rotate first", "不能退役正在签名的密钥，请先轮换"),
        (
            r"key (\w+) signs alert (\S+), still in force; retire it after the alert ends",
            "密钥 {0} 签署的预警 {1} 仍在生效，请在预警结束后再退役",
        ),
        (r".* needs the (operator or admin|admin) role", "您的角色无权执行此操作"),
        (
            r"this form was already sent with other content and its alert stands "
            r"\(see the alert list\); send again to issue this text as another alert",
            "此表单已提交过（内容不同），其预警已发布（见预警列表）；再次发送将作为另一条预警发布",
        ),
        (
            r"this form's alert is still being issued; look at the alert list",
            "此表单的预警正在发布，请查看预警列表",
        ),
        (
            r"Idempotency-Key must be 1-(\d+) visible ASCII characters",
            "Idempotency-Key 须为 1–{0} 个可见 ASCII 字符",
        ),
        (
            r"Idempotency-Key was already used with a different request",
            "该 Idempotency-Key 已用于另一个请求",
        ),
        (
            r"a request with this Idempotency-Key is still in progress; retry later",
            "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
        ),
    )
)
ROW = re.compile(r"row (\d+): (?:(\w+): )?(.*)$")
NAME_REPEATS = re.compile(r"name (.*) repeats row (\d+)$")


def in_chinese(message: str) -> str:
    """``message`` in Chinese when its pattern is known, else unchanged."""
    row = ROW.match(message)
    if row:
        number, field, rest = row.groups()
        repeat = NAME_REPEATS.match(rest)
        if repeat:
            return f"第 {number} 行：名称 {repeat[1]} 与第 {repeat[2]} 行重复"
        where = f"{FIELD_NAMES.get(field, field)}：" if field else ""
        return f"第 {number} 行：{where}{in_chinese(rest)}"
    content = content_in_chinese(message)
    if content is not None:
        return content
    for pattern, template in PATTERNS:
        found = pattern.match(message)
        if found:
            return template.format(*(FIELD_NAMES.get(g, g) for g in found.groups()))
    return message


def localise(language: str, message: str) -> str:
    """The message as the console should show it in ``language``."""
    return in_chinese(message) if language == "zh-CN" else message
