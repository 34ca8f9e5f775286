// JSON-RPC to the node that served the page: calls and batches over HTTP (POST /), new heads
// over a WebSocket subscription (eth_subscribe "newHeads") with polling as the fallback when the
// socket cannot open or drops; the socket is retried in the background.

export class RpcError extends Error {
  constructor(error) {
    super(error.message || 'JSON-RPC error');
    this.code = error.code;
    this.data = error.data;
  }
}

let nextId = 1;

/** Calls one method; throws RpcError on an error answer. */
export async function call(method, params = []) {
  const [answer] = await batch([[method, params]]);
  if (answer.error) throw new RpcError(answer.error);
  return answer.result;
}

/** Sends calls `[[method, params], …]` in one request; answers in the same order. */
export async function batch(calls) {
  if (calls.length === 0) return [];
  const requests = calls.map(([method, params]) => ({ jsonrpc: '2.0', id: nextId++, method, params }));
  const response = await fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(requests),
  });
  if (!response.ok) throw new Error(`node answered HTTP ${response.status}`);
  const answers = await response.json();
  const byId = new Map(answers.map((a) => [a.id, a]));
  return requests.map((r) => byId.get(r.id) || { error: { code: -32603, message: 'no answer' } });
}

/** Like batch, but every answer must be a result. */
export async function batchResults(calls) {
  return (await batch(calls)).map((a) => {
    if (a.error) throw new RpcError(a.error);
    return a.result;
  });
}

const POLL_MS = 2000;
const RETRY_MS = 10000;

/**
 * Calls `onHead(numberAsNumber)` for every new head: from a WebSocket subscription while one is
 * open, else by polling eth_blockNumber. `onMode('ws' | 'poll')` says which is in use.
 */
export function watchHeads(onHead, onMode) {
  let socket = null;
  let pollTimer = null;
  let last = -1;
  const seen = (n) => {
    if (n > last) {
      last = n;
      onHead(n);
    }
  };
  const poll = async () => {
    try {
      seen(Number(await call('eth_blockNumber')));
    } catch {
      /* the node is away: try again at the next tick */
    }
  };
  const startPolling = () => {
    if (pollTimer) return;
    onMode('poll');
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  };
  const stopPolling = () => {
    clearInterval(pollTimer);
    pollTimer = null;
  };
  const connect = () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    try {
      socket = new WebSocket(`${scheme}://${location.host}/`);
    } catch {
      startPolling();
      setTimeout(connect, RETRY_MS);
      return;
    }
    socket.onopen = () => {
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id === 1 && message.result) {
        stopPolling();
        onMode('ws');
        poll();
      } else if (message.method === 'eth_subscription') {
        seen(Number(message.params.result.number));
      }
    };
    socket.onclose = () => {
      socket = null;
      startPolling();
      setTimeout(connect, RETRY_MS);
    };
  };
  startPolling();
  connect();
}
