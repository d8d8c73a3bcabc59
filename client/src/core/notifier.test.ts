import { describe, expect, it } from 'vitest';
import type { Alert } from './my-rooms.ts';
import { Notifier, type NotificationApi } from './notifier.ts';
import { PreferenceStore, parsePreferences } from './preferences.ts';
import { STORAGE_KEYS, memoryStorage } from './storage.ts';

function rig(opts: { permission?: NotificationPermission; grant?: NotificationPermission; hidden?: boolean } = {}) {
  const storage = memoryStorage();
  const prefs = new PreferenceStore(storage);
  const shown: string[] = [];
  let asked = 0;
  let chimes = 0;
  let hidden = opts.hidden ?? true;
  const api: NotificationApi = {
    permission: opts.permission ?? 'default',
    requestPermission: async () => {
      asked++;
      (api as { permission: NotificationPermission }).permission = opts.grant ?? 'granted';
      return opts.grant ?? 'granted';
    },
    create: (title, o, onClick) => {
      shown.push(`${title}|${o.body}|${o.tag}`);
      onClick();
    },
  };
  const fakeAudio = () =>
    ({
      currentTime: 0,
      destination: {},
      resume: async () => undefined,
      createGain: () => ({ gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} }),
      createOscillator: () => {
        chimes++;
        return { type: 'sine', frequency: { setValueAtTime() {} }, connect() {}, start() {}, stop() {} };
      },
    }) as unknown as AudioContext;
  const clicked: string[] = [];
  const notifier = new Notifier({
    prefs,
    notifications: api,
    audio: fakeAudio,
    hidden: () => hidden,
    labelOf: (room) => `#${room}`,
    openRoom: (room) => clicked.push(room),
  });
  return {
    notifier,
    prefs,
    storage,
    shown,
    clicked,
    asked: () => asked,
    chimes: () => chimes,
    setHidden: (h: boolean) => (hidden = h),
  };
}

const mention = (seq: number, over: Partial<Alert> = {}): Alert => ({
  room: 'design',
  kind: 'mention',
  from: { userId: 'u-bob', name: 'bob' },
  text: '@alice look',
  seq,
  open: false,
  ...over,
});

describe('notifications', () => {
  it('are off, and nothing is asked, until the user turns them on', async () => {
    const r = rig();
    r.notifier.alert(mention(1));
    expect(r.shown).toEqual([]);
    expect(r.asked()).toBe(0);
    expect(await r.notifier.enableNotifications()).toBe('on');
    expect(r.asked()).toBe(1);
    r.notifier.alert(mention(2));
    expect(r.shown).toEqual(['bob mentioned you in #design|@alice look|design:2']);
    // A click opens the room.
    expect(r.clicked).toEqual(['design']);
  });

  it('a refused permission leaves them off', async () => {
    const r = rig({ grant: 'denied' });
    expect(await r.notifier.enableNotifications()).toBe('denied');
    expect(r.prefs.getSnapshot().notify).toBe(false);
  });

  it('one per message, only while the tab is hidden', async () => {
    const r = rig({ permission: 'granted' });
    await r.notifier.enableNotifications();
    r.setHidden(false);
    r.notifier.alert(mention(1));
    r.setHidden(true);
    r.notifier.alert(mention(2));
    r.notifier.alert(mention(2));
    r.notifier.alert(mention(3, { kind: 'direct', room: 'dm-1', text: 'psst' }));
    r.notifier.alert(mention(4, { from: null, text: null, seq: null }));
    expect(r.shown).toEqual([
      'bob mentioned you in #design|@alice look|design:2',
      'bob sent you a message|psst|dm-1:3',
      'You were mentioned in #design||design',
    ]);
  });

  it('the sound is off by default, plays once turned on, and not for the room in front of the user', () => {
    const r = rig();
    r.notifier.alert(mention(1));
    expect(r.chimes()).toBe(0);
    r.notifier.enableSound();
    expect(r.chimes()).toBe(1); // a preview, from the click that turned it on
    r.setHidden(false);
    r.notifier.alert(mention(2, { open: true }));
    expect(r.chimes()).toBe(1);
    r.notifier.alert(mention(3, { room: 'other' }));
    expect(r.chimes()).toBe(2);
  });
});

describe('preferences', () => {
  it('are remembered, and anything malformed falls back to the defaults', () => {
    const r = rig();
    r.prefs.update({ theme: 'dark' });
    expect(parsePreferences(r.storage.getItem(STORAGE_KEYS.preferences))).toEqual({ theme: 'dark', notify: false, sound: false });
    expect(parsePreferences('{"theme":"purple","notify":"yes"}')).toEqual({ theme: 'system', notify: false, sound: false });
    expect(parsePreferences('not json')).toEqual({ theme: 'system', notify: false, sound: false });
  });

  it('a change in another tab reaches this one', () => {
    const r = rig();
    const other = new PreferenceStore(r.storage);
    other.update({ sound: true });
    r.prefs.storageChanged(STORAGE_KEYS.preferences);
    expect(r.prefs.getSnapshot().sound).toBe(true);
  });
});
