/**
 * Turns the core's alerts (a mention, a direct message) into what the user
 * opted into: a desktop notification while the tab is hidden, which opens
 * the room when clicked, and a short sound. The sound is synthesised with
 * Web Audio: the page's Content-Security-Policy forbids `data:` media, and a
 * two-note chime needs no file at all.
 *
 * The browser's APIs are injected, so the rules are unit-tested without a
 * browser and the e2e suite can record notifications in headless Chromium.
 */
import type { Alert } from './my-rooms.ts';
import type { PreferenceStore } from './preferences.ts';

/** What the notifier uses of `window.Notification`. */
export interface NotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  create(title: string, options: { body: string; tag: string }, onClick: () => void): void;
}

export interface NotifierEnv {
  prefs: PreferenceStore;
  /** Null where the browser has no notifications. */
  notifications: NotificationApi | null;
  /** Null where the browser has no Web Audio. */
  audio: (() => AudioContext) | null;
  /** Whether the page is hidden (`document.visibilityState`). */
  hidden: () => boolean;
  /** A room's name for people (`#design`, a private room's title, a person for a direct message). */
  labelOf: (room: string) => string;
  /** Brings the tab forward and opens the room. */
  openRoom: (room: string) => void;
}

/** Longest message text a notification shows. */
const BODY_MAX = 160;

/** The outcome of turning notifications on. */
export type EnableResult = 'on' | 'denied' | 'unsupported';

export class Notifier {
  /** Alerts already raised (room:seq), so a message raises one however often it arrives. */
  private readonly raised = new Set<string>();
  private audioContext: AudioContext | null = null;

  constructor(private readonly env: NotifierEnv) {}

  /**
   * The settings control turned notifications on: only now is the browser
   * asked for its permission.
   */
  async enableNotifications(): Promise<EnableResult> {
    const api = this.env.notifications;
    if (!api) return 'unsupported';
    const permission = api.permission === 'granted' ? 'granted' : await api.requestPermission();
    const on = permission === 'granted';
    this.env.prefs.update({ notify: on });
    return on ? 'on' : 'denied';
  }

  /** The sound was turned on (a click: browsers let audio start only after a gesture); plays it once. */
  enableSound(): void {
    this.env.prefs.update({ sound: true });
    this.chime();
  }

  alert = (a: Alert): void => {
    const hidden = this.env.hidden();
    // The user is looking at this room: nothing to tell.
    if (a.open && !hidden) return;
    if (a.seq !== null) {
      const key = `${a.room}:${a.seq}`;
      if (this.raised.has(key)) return;
      this.raised.add(key);
    }
    const prefs = this.env.prefs.getSnapshot();
    if (prefs.sound) this.chime();
    const api = this.env.notifications;
    if (!prefs.notify || !hidden || !api || api.permission !== 'granted') return;
    const label = this.env.labelOf(a.room);
    const title =
      a.kind === 'mention'
        ? a.from
          ? `${a.from.name} mentioned you in ${label}`
          : `You were mentioned in ${label}`
        : a.from
          ? `${a.from.name} sent you a message`
          : `New message from ${label}`;
    const body = a.text === null ? '' : a.text.length > BODY_MAX ? `${a.text.slice(0, BODY_MAX - 1)}…` : a.text;
    api.create(title, { body, tag: a.seq === null ? `${a.room}` : `${a.room}:${a.seq}` }, () => this.env.openRoom(a.room));
  };

  /** Two short notes, quiet. */
  private chime(): void {
    if (!this.env.audio) return;
    try {
      this.audioContext ??= this.env.audio();
      const ctx = this.audioContext;
      void ctx.resume();
      const t = ctx.currentTime;
      const gain = ctx.createGain();
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.12, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.32);
      gain.connect(ctx.destination);
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(880, t);
      osc.frequency.setValueAtTime(1320, t + 0.1);
      osc.connect(gain);
      osc.start(t);
      osc.stop(t + 0.34);
    } catch {
      // No audio device, or the browser refused: the sound is a nicety.
    }
  }
}

/** The browser's notifications, or null where there are none. */
export function browserNotifications(): NotificationApi | null {
  if (typeof window === 'undefined' || !('Notification' in window)) return null;
  const N = window.Notification;
  return {
    get permission() {
      return N.permission;
    },
    requestPermission: () => N.requestPermission(),
    create(title, options, onClick) {
      const n = new N(title, options);
      n.onclick = () => {
        window.focus();
        onClick();
        n.close();
      };
    },
  };
}
