// Whether something accepts TCP connections on 127.0.0.1:port now: the demo waits on its processes
// with it, the bench on a freshly launched tracecar.
import { connect } from 'node:net';

/** @param {number} port @returns {Promise<boolean>} */
export function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
