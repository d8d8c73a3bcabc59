import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { User } from '../../../shared/protocol.ts';
import { nameTagger, type TagOf } from '../core/name-tags.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';
import { invitePath } from '../route.ts';
import { initial } from './member-list.tsx';
import { MessageButton } from './message-button.tsx';
import { NameLabel, nameText } from './name-label.tsx';

/**
 * A private room's members, and what its owner can do: invite people by
 * name, make and revoke invite links, remove members. Everyone may open a
 * direct message with another member ("Message"). A direct message shows
 * who it is with.
 */
export function RoomMembers({ room, tagOf }: { room: string; tagOf: TagOf }) {
  const client = useChatClient();
  const { roomInfo, rooms, session } = useChatSnapshot();
  const info = roomInfo[room];
  const joined = rooms[room]?.status === 'joined';
  const [error, setError] = useState<string | null>(null);
  const me = session?.userId ?? null;
  const owner = info?.ownerId !== undefined && info.ownerId === me;

  // Asked once the room is joined (and again after each re-join): who is in it, and who owns it.
  useEffect(() => {
    if (!joined) return;
    void client.actions.loadInfo(room).then((r) => setError(r.ok ? null : r.message));
  }, [client, room, joined]);

  if (!info || info.visibility === 'public') return null;
  const members = info.members ?? [];
  const remove = async (u: User) => {
    const r = await client.actions.removeMember(room, u.userId);
    setError(r.ok ? null : r.message);
  };

  return (
    <section className="panel-section" aria-labelledby="room-members-title">
      <h2 id="room-members-title" className="panel-title">
        {info.visibility === 'dm' ? 'Direct message' : 'Members'}
      </h2>
      <ul className="member-list">
        {members.map((u) => (
          <li key={u.userId} className="member" data-user-id={u.userId}>
            <span className="avatar" aria-hidden="true">
              {initial(u.name)}
            </span>
            <NameLabel className="member-name" name={u.name} tag={tagOf(u)} />
            {u.userId === me && <span className="you-tag">{' you'}</span>}
            {u.role === 'owner' && info.visibility === 'private' && <span className="role-tag">owner</span>}
            <span className="member-actions">
              {u.userId !== me && info.visibility === 'private' && <MessageButton user={u} onError={setError} />}
              {owner && u.userId !== me && (
                <button type="button" className="button ghost small" onClick={() => void remove(u)} aria-label={`Remove ${u.name}`}>
                  Remove
                </button>
              )}
            </span>
          </li>
        ))}
      </ul>
      {owner && <InvitePeople room={room} members={members} onError={setError} />}
      {owner && <InviteLinks room={room} onError={setError} />}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** Finds people by the start of their name and adds them to the room. */
function InvitePeople({ room, members, onError }: { room: string; members: readonly User[]; onError: (e: string | null) => void }) {
  const client = useChatClient();
  const [q, setQ] = useState('');
  const [found, setFound] = useState<User[] | null>(null);
  // Two people found under one name are told apart by their tags.
  const foundTag = useMemo(() => nameTagger(found ?? []), [found]);

  const search = async (e: FormEvent) => {
    e.preventDefault();
    const r = await client.actions.searchUsers(q);
    if (!r.ok) return onError(r.message);
    onError(null);
    setFound(r.users.filter((u) => !members.some((m) => m.userId === u.userId)));
  };
  const invite = async (u: User) => {
    const r = await client.actions.invite(room, u.userId);
    onError(r.ok ? null : r.message);
    if (r.ok) setFound((list) => list?.filter((x) => x.userId !== u.userId) ?? null);
  };

  return (
    <form className="room-form" onSubmit={(e) => void search(e)}>
      <label className="field-label" htmlFor="invite-search">
        Invite people
      </label>
      <div className="inline-field">
        <input id="invite-search" className="text-input" value={q} maxLength={32} placeholder="Name starts with…" onChange={(e) => setQ(e.target.value)} />
        <button type="submit" className="button">
          Search
        </button>
      </div>
      {found !== null && (
        <ul className="member-list invite-results" aria-label="People found">
          {found.length === 0 && <li className="muted">Nobody new by that name.</li>}
          {found.map((u) => (
            <li key={u.userId} className="member">
              <NameLabel className="member-name" name={u.name} tag={foundTag(u)} />
              <button type="button" className="button small" onClick={() => void invite(u)} aria-label={`Invite ${nameText(u.name, foundTag(u))}`}>
                Invite
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

/** Invite links made in this session: copy one, revoke one. The server keeps no list to show later. */
function InviteLinks({ room, onError }: { room: string; onError: (e: string | null) => void }) {
  const client = useChatClient();
  const [links, setLinks] = useState<string[]>([]);
  const [copied, setCopied] = useState<string | null>(null);
  const url = (token: string) => `${window.location.origin}${invitePath(token)}`;

  const make = async () => {
    const r = await client.actions.inviteLink(room);
    if (!r.ok) return onError(r.message);
    onError(null);
    setLinks((l) => [...l, r.token]);
    try {
      await navigator.clipboard.writeText(url(r.token));
      setCopied(r.token);
    } catch {
      setCopied(null); // No clipboard here (or it was refused): the link is shown to copy by hand.
    }
  };
  const revoke = async (token: string) => {
    const r = await client.actions.revokeInvite(room, token);
    onError(r.ok ? null : r.message);
    if (r.ok) setLinks((l) => l.filter((t) => t !== token));
  };

  return (
    <div className="invite-links">
      <button type="button" className="button" onClick={() => void make()}>
        Copy invite link
      </button>
      <p className="visually-hidden" role="status">
        {copied ? 'Invite link copied.' : ''}
      </p>
      {links.length > 0 && (
        <ul className="invite-link-list" aria-label="Invite links">
          {links.map((token, i) => (
            <li key={token} className="invite-link">
              <input className="text-input" readOnly value={url(token)} aria-label={`Invite link ${i + 1}`} onFocus={(e) => e.currentTarget.select()} />
              <button type="button" className="button ghost small" onClick={() => void revoke(token)} aria-label={`Revoke invite link ${i + 1}`}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
