"""Every string the console shows, by key: {"zh-CN": ..., "en": ...}.

Keys are ``section.what``; ``{name}`` fields are filled by ``t(key, name=...)``.
"""

from __future__ import annotations

from lianbo.web.messages_alerts import ALERTS
from lianbo.web.messages_content import CONTENT
from lianbo.web.messages_fleet import FLEET
from lianbo.web.messages_keys import KEYS
from lianbo.web.messages_monitoring import MONITORING
from lianbo.web.messages_outlines import OUTLINES
from lianbo.web.messages_programme import PROGRAMME

M = dict[str, dict[str, str]]


def _pairs(rows: dict[str, tuple[str, str]]) -> M:
    return {key: {"zh-CN": zh, "en": en} for key, (zh, en) in rows.items()}


_LAYOUT = {
    "app.name": ("联播 lianbo", "lianbo 联播"),
    "nav.label": ("主导航", "Main navigation"),
    "nav.dashboard": ("仪表盘", "Dashboard"),
    "nav.terminals": ("终端", "Terminals"),
    "nav.regions": ("区域", "Regions"),
    "nav.admin": ("系统管理", "Administration"),
    "nav.users": ("用户", "Users"),
    "nav.audit": ("审计", "Audit"),
    "layout.jurisdiction": ("管辖区域", "Jurisdiction"),
    "layout.nationwide": ("全国", "Nationwide"),
    "layout.language": ("界面语言", "Language"),
    "layout.logout": ("退出登录", "Sign out"),
    "pager.label": ("分页", "Pages"),
    "pager.prev": ("上一页", "Previous"),
    "pager.next": ("下一页", "Next"),
    "pager.position": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "action.cancel": ("取消", "Cancel"),
    "action.save": ("保存", "Save"),
    "filter.search": ("名称", "Name"),
    "filter.search_hint": ("搜索终端名称", "Search by name"),
    "filter.any": ("全部", "Any"),
    "filter.any_live": ("全部在用", "All in service"),
    "filter.apply": ("筛选", "Filter"),
    "filter.clear": ("清除", "Clear"),
}

_VOCABULARY = {
    "status.pending": ("待注册", "Pending"),
    "status.online": ("在线", "Online"),
    "status.offline": ("离线", "Offline"),
    "status.retired": ("已退役", "Retired"),
    "tier.outdoor": ("户外大屏", "Outdoor"),
    "tier.hall": ("社区影厅", "Hall"),
    "tier.home": ("家庭终端", "Home"),
    "role.admin": ("管理员", "Admin"),
    "role.operator": ("运维员", "Operator"),
    "role.reviewer": ("审核员", "Reviewer"),
    "role.issuer": ("预警发布员", "Alert issuer"),
    "role.monitor": ("监看员", "Monitor"),
    "role.viewer": ("只读用户", "Viewer"),
    "role.admin.desc": ("用户、角色、密钥与设置", "users, roles, keys, settings"),
    "role.operator.desc": ("管辖区内的屏幕与排期", "screens and schedules"),
    "role.reviewer.desc": ("内容三审", "content review"),
    "role.issuer.desc": ("发布和撤销应急预警", "issues emergency alerts"),
    "role.monitor.desc": ("监看墙与告警", "monitoring wall, alarms"),
    "role.viewer.desc": ("只读", "read-only"),
    "level.1": ("省", "Province"),
    "level.2": ("市", "City"),
    "level.3": ("区县", "County"),
    "level.4": ("乡镇街道", "Township"),
    "level.5": ("村社区", "Village"),
    "field.id": ("编号", "ID"),
    "field.name": ("名称", "Name"),
    "field.tier": ("类型", "Tier"),
    "field.status": ("状态", "Status"),
    "field.region": ("区域", "Region"),
    "field.position": ("经纬度", "Position"),
    "field.latitude": ("纬度", "Latitude"),
    "field.longitude": ("经度", "Longitude"),
    "field.tag": ("标签", "Tag"),
    "field.tags": ("标签", "Tags"),
    "field.groups": ("分组", "Groups"),
    "field.role": ("角色", "Role"),
    "field.created": ("创建时间", "Created"),
    "field.updated": ("更新时间", "Updated"),
    "field.enrolled": ("注册时间", "Enrolled"),
    "field.last_seen": ("最后在线", "Last seen"),
    "field.retired": ("退役时间", "Retired"),
    "hint.name": ("同一区域内名称不可重复", "Unique within its region"),
    "hint.region": (
        "区划代码，短码或 6 位全码均可，如 510107",
        "Region code, short or 6-digit form, e.g. 510107",
    ),
    "hint.labels": ("多个用逗号或分号分隔", "Separate several with commas or semicolons"),
}

_PAGES = {
    "login.title": ("登录", "Sign in"),
    "login.subtitle": (
        "使用播控中心分配的账号登录",
        "Use the account your control centre gave you",
    ),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.wrong": ("用户名或密码错误，请重试。", "Wrong username or password. Please try again."),
    "login.rate_limited": (
        "登录失败次数过多，请在 {seconds} 秒后重试。",
        "Too many failed sign-ins. Try again in {seconds} seconds.",
    ),
    "login.tagline": ("超高清屏幕联播控制", "Broadcast control for UHD screen networks"),
    "login.blurb": (
        "从地标户外大屏到社区影厅与家庭终端，一个播控中心统一编排、推送与监看。",
        "From landmark outdoor screens to community halls and living rooms: "
        "one control centre schedules, delivers and watches.",
    ),
    "login.point1": (
        "内容三审，签名清单，防劫持播出",
        "Three-level review, signed manifests, hijack-proof play",
    ),
    "login.point2": ("应急预警全网插播", "Emergency alerts pre-empt every screen"),
    "login.point3": (
        "安全播出监测与审计留痕",
        "Broadcast monitoring with a tamper-evident audit log",
    ),
    "login.foot": ("联播 lianbo · 开源播控系统", "lianbo 联播 · open-source broadcast control"),
    "dash.total": ("终端总数", "Terminals"),
    "dash.by_status": ("按状态", "By status"),
    "dash.by_tier": ("按类型与状态", "By tier and status"),
    "dash.note.online": ("正常播出", "playing"),
    "dash.note.offline": ("需要关注", "need attention"),
    "dash.note.pending": ("等待注册", "awaiting enrolment"),
    "dash.map": ("终端分布", "Where the screens are"),
    "dash.map_note": ("共绘制 {count} 台在用终端", "{count} terminals in service plotted"),
    "dash.map_truncated": ("仅显示前 20000 台", "first 20,000 shown"),
    "dash.dot_many": ("{count} 台 · {status}", "{count} terminals · {status}"),
    "dash.empty": ("管辖区内还没有终端。", "No terminals in your jurisdiction yet."),
    "dash.sum": ("合计", "Total"),
    "dash.attention": ("需要关注", "Needs attention"),
    "dash.attention_all": ("全部 {count} 台离线终端", "all {count} offline"),
    "dash.all_good": ("没有离线终端。", "No terminal is offline."),
    "dash.live": ("每 15 秒自动刷新", "Refreshes every 15 s"),
    "terminals.count": (
        "共 {total} 台 · 显示 {first}–{last}",
        "{total} terminals · showing {first}–{last}",
    ),
    "terminals.none": ("没有符合条件的终端。", "No terminals match."),
    "terminals.new": ("新建终端", "New terminal"),
    "terminals.create": ("创建并生成注册码", "Create and issue code"),
    "terminals.import": ("批量导入", "Import CSV"),
    "terminals.created": ("终端已创建", "Terminal created"),
    "terminals.created_msg": ("终端“{name}”已创建。", "Terminal “{name}” was created."),
    "terminals.open": ("查看终端", "Open terminal"),
    "terminals.another": ("继续新建", "Create another"),
    "terminal.saved": ("修改已保存。", "Changes saved."),
    "terminal.facts": ("终端信息", "Facts"),
    "terminal.edit": ("编辑", "Edit"),
    "terminal.not_enrolled": ("尚未注册", "not enrolled yet"),
    "terminal.never_seen": ("从未上线", "never"),
    "terminal.new_code": ("重新生成注册码", "New enrolment code"),
    "terminal.code_confirm": (
        "生成新的注册码后，旧的未使用注册码将立即失效。继续？",
        "A new code voids any unused earlier code. Continue?",
    ),
    "terminal.retire": ("退役终端", "Retire terminal"),
    "terminal.retire_confirm": (
        "确定退役“{name}”？其令牌与注册码将立即失效，且不可恢复。",
        "Retire “{name}”? Its token and codes stop working at once; this cannot be undone.",
    ),
    "terminal.retired_note": (
        "该终端已退役，不能再修改。",
        "This terminal is retired and cannot be changed.",
    ),
    "terminal.read_only": ("您的角色只能查看终端。", "Your role can view terminals only."),
    "code.label": ("注册码", "Enrolment code"),
    "code.expires": ("有效期至 {at}", "Valid until {at}"),
    "code.once": ("仅显示这一次，请立即记录", "Shown only once: note it now"),
    "code.help": (
        "在屏幕播放器上输入此注册码，或运行 lianbo player --enrol CODE。",
        "Type this code into the screen's player, or run lianbo player --enrol CODE.",
    ),
}

_MORE_PAGES = {
    "import.upload": ("上传 CSV 文件", "Upload a CSV file"),
    "import.choose": (
        "选择或拖入 CSV 文件（UTF-8，最大 20 MB）",
        "Choose or drop a CSV file (UTF-8, up to 20 MB)",
    ),
    "import.submit": ("导入", "Import"),
    "import.failed": ("导入失败，未创建任何终端：", "Import failed, nothing was created:"),
    "import.format": ("文件格式", "File format"),
    "import.format_help": (
        "首行为表头，列顺序不限；标签与分组用分号分隔。",
        "The first row is a header, columns in any order; tags and groups are ;-separated.",
    ),
    "import.column": ("列名", "Column"),
    "import.meaning": ("含义", "Meaning"),
    "import.required": ("必填", "required"),
    "import.col.name": ("终端名称，同一区域内唯一", "Terminal name, unique in its region"),
    "import.col.tier": ("outdoor / hall / home", "outdoor / hall / home"),
    "import.col.region": ("区划代码", "Region code"),
    "import.col.latitude": ("纬度（WGS-84）", "Latitude (WGS-84)"),
    "import.col.longitude": ("经度（WGS-84）", "Longitude (WGS-84)"),
    "import.col.tags": ("标签，如 landmark;4k", "Tags, e.g. landmark;4k"),
    "import.col.groups": ("分组，如 chengdu", "Groups, e.g. chengdu"),
    "import.atomic": (
        "要么全部导入，要么一条也不导入：出错时会指出第一行有问题的数据。",
        "All rows or none: on error the first bad row is named.",
    ),
    "import.done": ("导入完成", "Import done"),
    "import.created": ("已导入 {count} 台终端。", "{count} terminals imported."),
    "import.download": ("下载注册码 CSV", "Download codes as CSV"),
    "import.shown": (
        "此处显示前 {shown} 条，共 {count} 条；下载文件包含全部。",
        "First {shown} of {count} shown; the download has all.",
    ),
    "regions.tree": ("行政区划", "Administrative regions"),
    "regions.tree_help": (
        "点击展开下级，数字为在用终端数",
        "Open a node for its children; numbers are terminals in service",
    ),
    "regions.loading": ("加载中…", "Loading…"),
    "regions.none": ("没有下级区域", "No child regions"),
    "regions.terminals": ("{count} 台", "{count} terminals"),
    "regions.show_terminals": ("查看该区域的终端", "Show this region's terminals"),
    "regions.full_code": ("短码 · 6 位全码", "Short code · full 6-digit code"),
    "regions.add": ("新增乡镇或村社区", "Add a township or village"),
    "regions.add_help": (
        "省、市、区县已内置。乡镇为 9 位（区县代码 + 3 位），村社区为 12 位（乡镇代码 + 3 位）。",
        "Provinces, cities and counties are built in. Townships take 9 digits "
        "(county + 3), villages 12 (township + 3).",
    ),
    "regions.code": ("区划代码", "Region code"),
    "regions.code_hint": ("如 510107001", "e.g. 510107001"),
    "regions.name": ("名称", "Name"),
    "regions.add_submit": ("添加", "Add"),
    "regions.added": ("已添加：{name}", "Added: {name}"),
    "users.count": ("共 {total} 个用户", "Users: {total}"),
    "users.username": ("用户名", "Username"),
    "users.username_hint": ("2–64 位字母、数字、_ . -", "2–64 letters, digits, _ . -"),
    "users.display_name": ("显示名称", "Display name"),
    "users.jurisdiction": ("管辖区域", "Jurisdiction"),
    "users.active": ("启用", "Active"),
    "users.new": ("新建用户", "New user"),
    "users.create": ("创建用户", "Create user"),
    "users.password_hint": ("至少 8 位", "At least 8 characters"),
    "users.created": ("用户已创建。", "User created."),
    "users.saved": ("用户已更新。", "User updated."),
    "audit.action": ("操作", "Action"),
    "audit.actor": ("操作人", "User"),
    "audit.target": ("对象", "Target"),
    "audit.since": ("起始日期", "From"),
    "audit.until": ("截止日期", "Until"),
    "audit.time": ("时间（北京）", "Time (Beijing)"),
    "audit.address": ("来源地址", "Address"),
    "audit.changes": ("变更", "Changes"),
    "audit.before": ("变更前", "Before"),
    "audit.after": ("变更后", "After"),
    "audit.show_diff": ("{count} 项变化", "{count} changed"),
    "audit.count": ("共 {total} 条记录", "{total} entries"),
    "audit.none": ("没有符合条件的记录。", "No entries match."),
    "audit.verify": ("校验哈希链", "Verify chain"),
    "audit.chain_ok": (
        "哈希链完整：已校验 {count} 条记录。",
        "Chain intact: {count} entries verified.",
    ),
    "audit.chain_broken": ("哈希链断裂，首个异常记录 #{seq}：", "Chain broken at entry #{seq}:"),
    "audit.anchored": (
        "与 {count} 个库外锚点一致（最新锚定至记录 #{seq}）。",
        "Agrees with {count} anchors kept outside the database (newest: entry #{seq}).",
    ),
    "audit.not_anchored": ("尚无库外锚点。", "No anchors outside the database yet."),
    "audit.anchor_broken": ("锚点日志异常：", "Anchor log problem:"),
    "error.home": ("返回仪表盘", "Back to the dashboard"),
    "error.400": ("请求有误", "Bad request"),
    "error.400.hint": ("请检查输入后重试。", "Check what was entered and try again."),
    "error.401": ("需要登录", "Sign-in needed"),
    "error.401.hint": ("请先登录。", "Please sign in first."),
    "error.403": ("没有权限", "Not allowed"),
    "error.403.hint": ("您的角色不能访问此页面。", "Your role cannot open this page."),
    "error.404": ("未找到", "Not found"),
    "error.404.hint": (
        "该页面或对象不存在，或不在您的管辖区域内。",
        "It does not exist, or it is outside your jurisdiction.",
    ),
    "error.405": ("不支持的请求方式", "Method not allowed"),
    "error.405.hint": ("请从页面上的链接或按钮操作。", "Use the links and buttons on the page."),
    "error.409": ("与现有数据冲突", "Conflict"),
    "error.409.hint": ("请检查后重试。", "Check and try again."),
    "error.410": ("已失效", "Gone"),
    "error.410.hint": (
        "该一次性对象已使用或已过期。",
        "This one-time item was used or has expired.",
    ),
    "error.429": ("请求过于频繁", "Too many requests"),
    "error.429.hint": ("请稍后再试。", "Please try again later."),
    "error.csrf": ("安全校验失败", "Security check failed"),
    "error.csrf.hint": (
        "表单已过期或来自其他网站。请返回页面刷新后重试。",
        "The form expired or came from another site. Go back, reload and try again.",
    ),
}

MESSAGES: M = _pairs(
    {**_LAYOUT, **_VOCABULARY, **_PAGES, **_MORE_PAGES, **CONTENT, **PROGRAMME, **FLEET}
    | {**ALERTS, **MONITORING, **KEYS, **OUTLINES}
)
