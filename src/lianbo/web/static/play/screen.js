// Putting cues on the stage: images and video from verified blob: URLs,
// tickers as scrolling text, a blank stage with its reason otherwise.
// The new element is readied off screen and swapped in, so an item change
// never flashes black. The stage's data-* attributes say what is shown.

const FITS = { contain: 'contain', cover: 'cover', fill: 'fill', stretch: 'fill' };

export class Screen {
  constructor(stage, texts) {
    this.stage = stage;
    this.texts = texts;
    this.generation = 0;
  }

  /** Show `cue` ({assetId, kind, fit, seekMs, sha256, scheduleId, url, text}). */
  async show(cue) {
    const generation = ++this.generation;
    const element = await this.build(cue);
    if (generation !== this.generation) return; // a newer cue won the race
    element.classList.add('cue');
    this.stage.replaceChildren(element);
    if (element.tagName === 'VIDEO' || element.tagName === 'AUDIO') element.play().catch(() => {});
    const data = this.stage.dataset;
    delete data.blank;
    data.assetId = cue.assetId;
    data.kind = cue.kind;
    data.sha256 = cue.sha256 || '';
    data.scheduleId = cue.scheduleId || '';
    data.since = String(Date.now());
  }

  blank(reason) {
    this.generation += 1;
    const note = document.createElement('p');
    note.className = 'stage-note';
    note.textContent = reason === 'no manifest' ? this.texts['play.waiting'] : '';
    this.stage.replaceChildren(note);
    const data = this.stage.dataset;
    for (const key of ['assetId', 'kind', 'sha256', 'scheduleId', 'since']) delete data[key];
    data.blank = reason;
  }

  async build(cue) {
    if (cue.kind === 'image') return this.image(cue);
    if (cue.kind === 'video') return this.video(cue);
    if (cue.kind === 'ticker') return this.ticker(cue);
    if (cue.kind === 'audio') return this.audio(cue);
    const empty = document.createElement('div');
    empty.dataset.unsupported = cue.kind;
    return empty;
  }

  async image(cue) {
    const img = new Image();
    img.alt = '';
    img.style.objectFit = FITS[cue.fit] || 'contain';
    img.src = cue.src;
    try {
      await img.decode();
    } catch (error) {
      // Undecodable (verified, but not an image this browser reads): show it anyway.
    }
    return img;
  }

  async video(cue) {
    const video = document.createElement('video');
    video.muted = true; // autoplay policies allow muted playback only
    video.playsInline = true;
    video.preload = 'auto';
    video.style.objectFit = FITS[cue.fit] || 'contain';
    video.src = cue.src;
    await new Promise((resolve) => {
      video.addEventListener('loadedmetadata', resolve, { once: true });
      video.addEventListener('error', resolve, { once: true });
      setTimeout(resolve, 2000);
    });
    if (cue.seekMs > 0 && Number.isFinite(video.duration)) {
      video.currentTime = Math.min(cue.seekMs / 1000, video.duration);
    }
    return video;
  }

  audio(cue) {
    // Sound only where the browser allows it (after a click, or by policy).
    const audio = document.createElement('audio');
    audio.src = cue.src;
    audio.addEventListener('loadedmetadata', () => {
      audio.currentTime = Math.min(cue.seekMs / 1000, audio.duration || 0);
    }, { once: true });
    return audio;
  }

  ticker(cue) {
    const band = document.createElement('div');
    band.className = 'ticker';
    const text = document.createElement('span');
    text.textContent = cue.text || '';
    // One pass of the text across the screen per item; the offset keeps
    // simulcast screens scrolling in step.
    const seconds = Math.max(5, (cue.durationMs || 10000) / 1000);
    text.style.animationDuration = `${seconds}s`;
    text.style.animationDelay = `${-(cue.seekMs || 0) / 1000}s`;
    band.append(text);
    return band;
  }
}
