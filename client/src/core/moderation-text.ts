/** How a moderation entry of the log reads, after the moderator's name ("bob muted carol for 10 minutes"). */
import type { ModNote } from '../../../shared/protocol.ts';

/** "10 minutes", "1 hour", "1 day", "90 seconds". */
export function duration(seconds: number): string {
  const units: Array<[number, string]> = [
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

export function describeModeration(note: ModNote): string {
  const who = note.user?.name ?? 'someone';
  switch (note.action) {
    case 'role':
      return note.role === 'moderator' ? `made ${who} a moderator` : `made ${who} a member`;
    case 'mute':
      return note.seconds ? `muted ${who} for ${duration(note.seconds)}` : `muted ${who} until unmuted`;
    case 'unmute':
      return `unmuted ${who}`;
    case 'ban':
      return `banned ${who}`;
    case 'unban':
      return `lifted the ban on ${who}`;
    case 'slowmode':
      return note.seconds ? `turned on slow mode: one message every ${duration(note.seconds)}` : 'turned off slow mode';
    case 'lock':
      return 'locked the room: only moderators can post';
    case 'unlock':
      return 'unlocked the room';
    case 'pin':
      return 'pinned a message';
    case 'unpin':
      return 'unpinned a message';
    case 'delete':
      return 'removed a message';
  }
}
