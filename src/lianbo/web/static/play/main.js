// The web player's entry point: enrol once, then play.
//
// window.lianboPlayer.state() gives a read-only picture of the screen (what
// is on the stage, the manifest, the last refusal, alerts and their acks);
// the stage and the takeover carry the same facts as data-* attributes.

import { Refused, TerminalApi, keysOf } from './api.js';
import { missingCapability } from './crypto.js';
import { selfSignedKeySet } from './keyset.js';
import { Player } from './player.js';
import * as store from './store.js';

const body = document.body;
const texts = JSON.parse(body.dataset.texts);
const language = body.dataset.lang || 'zh-CN';
let player = null;

function setState(state) {
  body.dataset.state = state;
}

function say(message) {
  const notice = document.getElementById('notice');
  notice.textContent = message;
  notice.hidden = !message;
}

function enrolForm() {
  const section = document.getElementById('enrol');
  const form = document.getElementById('enrol-form');
  const input = document.getElementById('enrol-code');
  const error = document.getElementById('enrol-error');
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
    setState('enrol');
  };
  section.hidden = false;
  setState('enrol');
  input.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!code) {
      fail(texts['play.enrol.empty']);
      return;
    }
    setState('enrolling');
    let answer;
    try {
      answer = await new TerminalApi().enrol(code);
    } catch (failure) {
      fail(failure instanceof Refused
        ? texts['play.enrol.refused'].replace('{message}', failure.serverMessage)
        : texts['play.enrol.unreachable']);
      return;
    }
    let pinned;
    try {
      pinned = await pinnedKeys(answer);
    } catch (failure) {
      fail(texts['play.enrol.refused'].replace('{message}', failure.message));
      return;
    }
    const identity = {
      terminalId: String(answer.terminal_id),
      token: String(answer.token),
      keys: pinned.keys,
      keySerial: pinned.serial,
      audience: answer.audience && typeof answer.audience === 'object' ? answer.audience : null,
    };
    store.saveIdentity(identity);
    section.hidden = true;
    error.hidden = true;
    await play(identity);
  });
}

/** The keys to pin: the signed set when the server sends one (checked
 * against its own signatures), else the plain list of older servers. */
async function pinnedKeys(answer) {
  if (!('key_set' in answer)) return { keys: keysOf(answer), serial: 0 };
  return selfSignedKeySet(answer);
}

async function play(identity) {
  setState('playing');
  player = new Player(identity, { texts, language });
  await player.start();
}

function fullScreenButton() {
  const button = document.getElementById('fullscreen');
  const enter = () => {
    if (!document.fullscreenElement && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(() => {});
    }
  };
  button.addEventListener('click', enter);
  document.getElementById('stage').addEventListener('click', enter);
  document.addEventListener('fullscreenchange', () => {
    button.hidden = Boolean(document.fullscreenElement);
  });
}

function offlineStart() {
  // Keep the page and its scripts for a start-up without the network (a TV
  // switched on during an outage plays its cached programme).
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/play-sw.js', { scope: '/play' }).catch(() => {});
  }
}

window.lianboPlayer = Object.freeze({
  state: () => (player ? player.state() : { state: body.dataset.state }),
});

async function boot() {
  fullScreenButton();
  const missing = await missingCapability();
  if (missing) {
    body.dataset.missing = missing;
    setState('unsupported');
    say(texts['play.unsupported']);
    return;
  }
  offlineStart();
  const identity = store.loadIdentity();
  if (identity) await play(identity);
  else enrolForm();
}

boot();
