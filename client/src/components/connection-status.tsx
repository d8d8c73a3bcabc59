import { describeConnection } from '../core/connection-view.ts';
import { explainTransport } from '../core/transport-choice.ts';
import { TRANSPORT_LABELS } from '../core/transport.ts';
import { useChatClient, useChatSnapshot } from '../hooks/use-chat.ts';

/**
 * Names the connection state and the live transport; when the transport is
 * not the best one, says why (tooltip, and a details toggle for touch and
 * keyboard users); offers to retry while disconnected.
 */
export function ConnectionStatus() {
  const client = useChatClient();
  const { connection, transport, lastBye, lastRefusal } = useChatSnapshot();
  const waiting = (connection.status === 'reconnecting' || connection.status === 'offline') && connection.phase === 'waiting';
  const canRetry = waiting && !(connection.status === 'offline' && connection.reason === 'network');
  const why = explainTransport(transport, connection);
  return (
    <div className="connection">
      <div role="status" className={`status status-${connection.status}`} title={why ?? undefined}>
        <span className="status-dot" aria-hidden="true" />
        {describeConnection(connection, TRANSPORT_LABELS, lastBye, lastRefusal)}
      </div>
      {why && (
        <details className="transport-why">
          <summary>Why?</summary>
          <p>{why}</p>
        </details>
      )}
      {canRetry && (
        <button type="button" className="button ghost small" onClick={() => client.retryNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
