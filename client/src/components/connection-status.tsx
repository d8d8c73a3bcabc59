import { describeConnection } from '../core/connection-machine.ts';
import { TRANSPORT_LABELS } from '../core/transport.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';

/** Names the connection state and the live transport; offers to retry while disconnected. */
export function ConnectionStatus() {
  const client = useChatClient();
  const { connection } = useChatSnapshot();
  const waiting = (connection.status === 'reconnecting' || connection.status === 'offline') && connection.phase === 'waiting';
  const canRetry = waiting && !(connection.status === 'offline' && connection.reason === 'network');
  return (
    <div className="connection">
      <div role="status" className={`status status-${connection.status}`}>
        <span className="status-dot" aria-hidden="true" />
        {describeConnection(connection, TRANSPORT_LABELS)}
      </div>
      {canRetry && (
        <button type="button" className="button ghost small" onClick={() => client.retryNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
