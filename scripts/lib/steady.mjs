// Steady-rate load for the hardening scripts, the bench and the suite: `send(i)` is called `rate`
// times a second, in 20 batches a second, for `seconds`, whether or not earlier calls have
// settled (an open model: a slow proxy does not slow the arrivals down).

/** Resolves with every send's settled value once the last one settled. */
export async function steadyRate(rate, seconds, send) {
  const pending = [];
  const started = Date.now();
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      if (Date.now() - started >= seconds * 1_000) {
        clearInterval(tick);
        resolve();
        return;
      }
      for (let i = 0; i < rate / 20; i++) pending.push(send(pending.length));
    }, 50);
  });
  return Promise.all(pending);
}
