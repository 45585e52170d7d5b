"""Console strings for the signing keys page (admins)."""

from __future__ import annotations

KEYS: dict[str, tuple[str, str]] = {
    "nav.keys": ("签名密钥", "Signing keys"),
    "keys.serial": ("密钥集序号 {serial}", "Key set serial {serial}"),
    "keys.key_id": ("密钥 ID", "Key id"),
    "keys.state": ("状态", "State"),
    "keys.state.active": ("签名中", "Signing"),
    "keys.state.trusted": ("受信任", "Trusted"),
    "keys.state.retired": ("已退役", "Retired"),
    "keys.rotate": ("轮换密钥", "Rotate"),
    "keys.retire": ("退役", "Retire"),
    "keys.rotated": ("已生成新的签名密钥 {key_id}。", "New signing key {key_id} made."),
    "keys.retired": ("密钥 {key_id} 已退役。", "Key {key_id} retired."),
    "keys.help": (
        "屏幕只接受由其已信任的密钥签名的新密钥集。轮换后，待所有屏幕上报新的密钥集序号，再退役旧密钥。",
        "Screens adopt a new key set only when a key they already trust signed it. "
        "After a rotation, retire the old key once every screen reports the new key set serial.",
    ),
}
