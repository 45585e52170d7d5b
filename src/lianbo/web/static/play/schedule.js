// What a manifest says to show at a moment, and until when (player/schedule.py).
// Every answer carries its deadline, so the player sleeps until then instead
// of polling "what now?".

/** The simulcast rule: (now - origin) mod length, in ms (never negative). */
export function positionMs(entry, lengthMs, now) {
  if (lengthMs <= 0) return 0;
  const elapsed = Math.floor(now - entry.origin);
  return ((elapsed % lengthMs) + lengthMs) % lengthMs;
}

export function itemAt(playlist, position) {
  let remaining = position;
  for (let index = 0; index < playlist.items.length; index += 1) {
    const item = playlist.items[index];
    if (remaining < item.durationMs) return [index, remaining];
    remaining -= item.durationMs;
  }
  throw new Error(`position ${position} ms is past the playlist's end`);
}

export function fileFor(manifest, assetId) {
  return manifest.files.find((f) => f.assetId === assetId) || null;
}

/** {reason, until, entry, item, index, offsetMs, file, key} at `now` (server ms). */
export function slotAt(manifest, now) {
  if (!manifest) return { reason: 'no manifest', until: null };
  if (now >= manifest.validUntil) return { reason: 'expired', until: null };
  const entry = manifest.timeline.find((e) => e.start <= now && now < e.end);
  if (!entry) {
    const later = manifest.timeline.filter((e) => e.start > now).map((e) => e.start);
    return { reason: 'nothing scheduled', until: Math.min(...later, manifest.validUntil) };
  }
  const playlist = entry.playlistId ? manifest.playlists[entry.playlistId] : null;
  if (!playlist || playlist.lengthMs <= 0) {
    return { reason: 'no programme', until: Math.min(entry.end, manifest.validUntil), entry };
  }
  const position = positionMs(entry, playlist.lengthMs, now);
  const [index, offsetMs] = itemAt(playlist, position);
  const item = playlist.items[index];
  const cycle = Math.floor(Math.floor(now - entry.origin) / playlist.lengthMs);
  const file = fileFor(manifest, item.assetId);
  return {
    reason: 'playing',
    until: Math.min(now + item.durationMs - offsetMs, entry.end, manifest.validUntil),
    entry,
    item,
    index,
    offsetMs,
    file,
    key: JSON.stringify([
      entry.scheduleId, entry.playlistId, entry.origin, cycle, index,
      file ? file.sha256 : item.assetId,
    ]),
  };
}

/** The files still to be played, the soonest needed first (download order). */
export function filesByAirTime(manifest, now) {
  const ordered = new Map();
  const entries = [...manifest.timeline].sort((a, b) => a.start - b.start);
  for (const entry of entries) {
    if (entry.end <= now || !entry.playlistId) continue;
    const playlist = manifest.playlists[entry.playlistId];
    for (const item of playlist ? playlist.items : []) {
      const file = fileFor(manifest, item.assetId);
      if (file && !ordered.has(file.sha256)) ordered.set(file.sha256, file);
    }
  }
  return [...ordered.values()];
}
