// The harness's protocol with the bench apps (bench/upstream.mjs, bench/h2-upstream.mjs), in one
// place: once bound, {port} over IPC (or {"port":N} on stdout when not forked); {type:'count'} is
// answered with what count() returns ({requests, sampled}); the app exits with its parent or on SIGTERM.
export function serveForHarness(server, count) {
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    if (process.send) process.send({ port });
    else console.log(JSON.stringify({ port }));
  });
  process.on('message', (msg) => {
    if (msg?.type === 'count') process.send?.(count());
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
