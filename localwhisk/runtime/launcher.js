// The program inside every Node.js action process: the runner's protocol, Node.js's rules.
//
// Started blank by launcher.py (which bounds the process first, then becomes node), it
// reads one init line, loads the action the way apache/openwhisk-runtime-nodejs does
// (core/nodejsActionBase/runner.js: plain source evaluated with `main` looked up as a
// global, then in exports; zips required by package.json `main` or index.js, `main` as
// file.func), acks on fd 3, then serves one JSON line per activation with the results and
// wording of its src/service.js. Logs end with the sentinel on stdout and stderr.
//
// Not in strict mode on purpose: action source is evaluated here, and the runtime evaluates
// it in sloppy mode. Everything of this file's own starts with LW_ so that action code
// evaluated below cannot shadow it by accident.

const LW_fs = require('fs');
const LW_path = require('path');
const LW_Module = require('module');
const LW_net = require('net');
const LW_url = require('url');

const LW_RESULT_FD = Number(process.argv[2] || 3);
const LW_PROTOCOL_FD = Number(process.argv[3] || 4);
// The runtime's own modules (openwhisk, serialize-error), where require() finds them too.
const LW_MODULES = (process.env.NODE_PATH || '').split(LW_path.delimiter)[0];
const LW_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n';
// For fs.writeSync, made once. Streams get the string: an action's own write wrapper sees
// what the runtime's console.log(sentinel) would give it, and cannot alter this buffer.
const LW_SENTINEL_BYTES = Buffer.from(LW_SENTINEL);
// A reply that is not JSON (no JSON text starts with "!"): the process must not be reused,
// and the activation failed in the runtime itself ("!" and a JSON string, the message) or
// has its result ("!" and a JSON object or array) (outcomes.py reads it).
const LW_FAILURE = '!';
// `main` as the runtime accepts it in plain source: an identifier or a property path.
const LW_MAIN_PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

function LW_writeAll(fd, data) {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += LW_fs.writeSync(fd, buffer, offset);
    } catch (error) {
      // node makes its own stdio pipes non-blocking: a full pipe is a retry, not a loss.
      if (error.code !== 'EAGAIN') throw error;
    }
  }
}

function LW_flushed(stream) {
  // Resolves once what the action wrote to this stream has left node: console.log to a full
  // pipe is queued, and the result must not overtake it (nor be answered while the rest of
  // this activation's logs could still be lost with the process).
  return new Promise((resolve) => stream.write('', () => resolve()));
}

function LW_queued(stream) {
  return stream.writable && stream.writableLength > 0;
}

function LW_endOfActivation() {
  // Behind what is still queued in the streams console.log writes to, as the runtime's
  // writeMarkers does, so a sentinel never overtakes a line; straight to the fd otherwise.
  for (const [stream, fd] of [[process.stdout, 1], [process.stderr, 2]]) {
    try {
      if (LW_queued(stream)) stream.write(LW_SENTINEL);
      else LW_writeAll(fd, LW_SENTINEL_BYTES);
    } catch (_) {
      // stdout or stderr closed by the action: the runner stops waiting at EOF.
    }
  }
}

async function LW_answer(line, leftover = null) {
  // Logs flushed, then the sentinels, then the reply, as launcher.py does: when the reply
  // arrives the logs are complete in the pipes, and the runner reads all three at once.
  const out = process.stdout;
  const err = process.stderr;
  if (LW_queued(out) || LW_queued(err)) {
    await Promise.all([out, err].filter(LW_queued).map(LW_flushed));
  }
  // After a rejection main left unhandled the result stands (the runtime has answered),
  // marked: this process must not serve again.
  const reusable = leftover === null || !(await leftover);
  LW_endOfActivation();
  LW_reply(reusable ? line : LW_FAILURE + line);
}

// The reason of the rejection LW_endOfTask makes to learn that node has reported main's.
const LW_PROBE = Symbol('the end of the task');

function LW_endOfTask() {
  // The runtime answers as soon as main's promise settles; a promise main rejected and left
  // unhandled then ends its process (node's default, --unhandled-rejections=throw), and the
  // next activation would find it dead. Node reports the rejections a task left unhandled,
  // in the order they were made, once its microtasks are done (processPromiseRejections in
  // lib/internal/process/promises.js): one made here, after main settled, is reported after
  // all of main's, so when it arrives the answer is known without a turn of the event loop.
  // Resolves to whether one came. Must be called in the task in which main settled.
  if (process.listenerCount('unhandledRejection') > 0) {
    return Promise.resolve(false); // the action handles its rejections: node ends nothing
  }
  return new Promise((resolve) => {
    let leftover = false;
    const onRejection = (reason) => {
      if (reason !== LW_PROBE) {
        leftover = true;
        console.error('Unhandled promise rejection after the action returned:', reason);
        return;
      }
      process.off('unhandledRejection', onRejection);
      resolve(leftover);
    };
    process.on('unhandledRejection', onRejection);
    Promise.reject(LW_PROBE);
  });
}

function LW_reply(line) {
  LW_writeAll(LW_RESULT_FD, line + '\n');
}

function LW_fail(message) {
  return LW_answer(LW_FAILURE + JSON.stringify(message));
}

function LW_evalSource(LW_code, LW_main, LW_dir) {
  const filename = LW_path.join(LW_dir, 'index.js');
  // The names the runtime's eval sees (runner.js runs it inside its own module): here a
  // module of the action's own, requiring from the action's folder.
  const module = new LW_Module(filename, null);
  module.filename = filename;
  module.paths = LW_Module._nodeModulePaths(LW_dir);
  const exports = module.exports;
  const require = LW_Module.createRequire(filename);
  const __filename = filename;
  const __dirname = LW_dir;
  if (!LW_MAIN_PATH.test(LW_main)) return undefined;
  return eval(`(function(){
    ${LW_code}
    try {
      return ${LW_main}
    } catch (e) {
      if (e.name === 'ReferenceError') {
        return module.exports.${LW_main} || exports.${LW_main}
      } else throw e
    }
  })()`);
}

function LW_requireZip(dir, main) {
  const parts = main.match(/^([^.]+)$|^([^.]+)\.(.+)$/);
  if (!parts) throw 'Name of main function is not valid.';
  const index = parts[2];
  const name = parts[3] || parts[1];
  if (
    index === undefined &&
    !LW_fs.existsSync(LW_path.join(dir, 'package.json')) &&
    !LW_fs.existsSync(LW_path.join(dir, 'index.js'))
  ) {
    throw 'Zipped actions must contain either package.json or index.js at the root.';
  }
  let handler = require(index !== undefined ? LW_path.join(dir, index) : dir);
  for (const key of name.split('.')) handler = handler == null ? undefined : handler[key];
  return handler;
}

function LW_setEnv(env) {
  // As service.js doInit copies /init's env: objects as JSON, empty values as "".
  for (const [key, value] of Object.entries(env || {})) {
    process.env[key] =
      typeof value !== 'object' || value === null ? (value ? String(value) : '') : JSON.stringify(value);
  }
}

function LW_setContext(context) {
  // Every key but value becomes __OW_<KEY> (service.js doRun); one sent last time but not
  // now (api_key) must not stay behind for this activation. Most of the context repeats,
  // and setting a variable costs a setenv: only what changed is set.
  const env = process.env;
  const current = new Set();
  for (const key in context) {
    const value = context[key];
    if (key === 'value' || value === null || value === undefined) continue;
    let name = LW_names.get(key);
    if (name === undefined) LW_names.set(key, (name = '__OW_' + key.toUpperCase()));
    const text = String(value);
    current.add(name);
    if (env[name] !== text) env[name] = text;
  }
  for (const stale of LW_previous) if (!current.has(stale)) delete env[stale];
  LW_previous = current;
}

function LW_confineRequire(dir) {
  // require() finds what the runtime image lets it find: node_modules/ inside the action's
  // folder (walking up no further than the folder itself), then the image's modules (at /
  // in the image, here LW_MODULES). Not NODE_PATH's other entries, ~/.node_modules or any
  // node_modules/ of the folders around the action's on this machine.
  const root = LW_fs.realpathSync(dir);
  const inside = (p) => p === LW_path.join(root, 'node_modules') || p.startsWith(root + LW_path.sep);
  const original = LW_Module._nodeModulePaths;
  LW_Module._nodeModulePaths = function (from) {
    const paths = original.call(this, from).filter(inside);
    if (LW_MODULES) paths.push(LW_MODULES);
    return paths;
  };
  LW_Module.globalPaths.length = 0;
}

let LW_handler;
let LW_previous = new Set();
const LW_names = new Map(); // context key -> its variable's name

async function LW_init(message) {
  const init = message.init;
  LW_setEnv(init.env);
  LW_setContext(init.context || {});
  process.chdir(init.dir);
  LW_confineRequire(init.dir);
  const main = init.main || 'main';
  let handler;
  try {
    handler = init.binary
      ? LW_requireZip(init.dir, main)
      : LW_evalSource(LW_fs.readFileSync(LW_path.join(init.dir, 'index.js'), 'utf8'), main, init.dir);
    if (typeof handler !== 'function') throw "Action entrypoint '" + main + "' is not a function.";
  } catch (error) {
    console.error('Error during initialization:', error);
    const cause = error && error.stack ? String(error.stack) : String(error);
    await LW_answer(JSON.stringify({ error: `Initialization has failed due to: ${cause}` }));
    process.exit(0);
  }
  LW_handler = handler;
  LW_reply('{"ok": true}');
}

let LW_serializer;

async function LW_serializeError(error) {
  // The runtime answers a rejection with serialize-error's rendering of it; that package
  // ships with the runtime's modules (ESM only, so imported by file URL).
  if (LW_serializer === undefined) {
    try {
      const file = LW_path.join(LW_MODULES, 'serialize-error', 'index.js');
      LW_serializer = (await import(LW_url.pathToFileURL(file).href)).serializeError;
    } catch (_) {
      LW_serializer = null;
    }
  }
  if (LW_serializer) return LW_serializer(error);
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : error;
}

async function LW_run(message) {
  const value = message.value;
  LW_setContext(message);
  const args = value === null || value === undefined ? {} : value;
  let result;
  let failed = false;
  let thrown;
  try {
    result = await LW_handler(args);
  } catch (error) {
    failed = true;
    thrown = error;
  }
  const leftover = LW_endOfTask(); // now, before anything below can end this task
  if (failed) {
    // The promise of a handler that returned one rejects into an application error
    // ({error: ...}); a synchronous throw is the runtime's 502 and stops the container.
    if (thrown instanceof LW_Thrown) {
      console.error(thrown.cause);
      await LW_fail(`An error has occurred: ${thrown.cause}`);
      return;
    }
    result = { error: thrown ? await LW_serializeError(thrown) : {} };
  }
  if (result === undefined) result = {};
  if (typeof result !== 'object') {
    console.error(`Result must be of type object but has type "${typeof result}":`, result);
    await LW_fail('The action did not return a dictionary.');
    return;
  }
  let line;
  try {
    line = JSON.stringify(result);
  } catch (error) {
    console.error(error);
    await LW_fail(`An error has occurred: ${error}`);
    return;
  }
  await LW_answer(line === undefined ? '{}' : line, leftover);
}

class LW_Thrown {
  constructor(cause) {
    this.cause = cause;
  }
}

function LW_call(handler) {
  // Tell a synchronous throw from a rejected promise, as NodeActionRunner.run does.
  return (args) => {
    let returned;
    try {
      returned = handler(args);
    } catch (error) {
      return Promise.reject(new LW_Thrown(error));
    }
    return Promise.resolve(returned);
  };
}

function LW_die(error) {
  console.error(error);
  process.exit(1);
}

function LW_serve() {
  // A socket, not fs.createReadStream: a read blocked in the thread pool would keep
  // process.exit() of the action waiting forever. Read through `onread` (net.Socket's
  // option for a buffer of the caller's): each read goes straight to onData, with none of
  // a readable stream's push, buffering and events, which were a third of the launcher's
  // own time per activation while V8 had not yet optimised them. The buffer is reused, so
  // a part of a line kept for the next read is copied. Activations still run one after
  // another (the runner sends the next only after the reply).
  let pending = [];
  let initialized = false;
  let queue = Promise.resolve();
  const take = async (message) => {
    if (!initialized) {
      await LW_init(message);
      LW_handler = LW_call(LW_handler);
      initialized = true;
    } else {
      await LW_run(message);
    }
  };
  const onData = (size, buffer) => {
    const chunk = buffer.subarray(0, size);
    let start = 0;
    let end;
    while ((end = chunk.indexOf(10, start)) !== -1) {
      const text = pending.length === 0
        ? chunk.toString('utf8', start, end)
        : Buffer.concat([...pending, chunk.subarray(start, end)]).toString('utf8');
      pending = [];
      start = end + 1;
      const message = JSON.parse(text);
      queue = queue.then(() => take(message)).catch(LW_die);
    }
    if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
  };
  const input = new LW_net.Socket({
    fd: LW_PROTOCOL_FD, readable: true, writable: false,
    onread: { buffer: Buffer.allocUnsafe(65536), callback: onData },
  });
  input.on('error', LW_die);
}

LW_serve();
