// The announcement benchmark's peer (bench/run): nodemailer's pooled SMTP transport sending COUNT
// messages to 127.0.0.1:PORT over CONNECTIONS connections, IN_FLIGHT sendMail calls at a time.
//
//   node nodemailer.js compose PORT COUNT CONNECTIONS IN_FLIGHT TEXT HTML
//       composes each message as a user of nodemailer would: the announcement's text and HTML
//       parts (files in which {{email}} and {{unsubscribe}} stand for the recipient's address and
//       unsubscribe link), one recipient per message, the list headers of RFC 2369 and RFC 8058.
//   node nodemailer.js raw PORT COUNT CONNECTIONS IN_FLIGHT EML
//       sends the ready message EML as it is (the `raw` option), to a new recipient each time.
//   node nodemailer.js sample TEXT HTML
//       writes one composed message to standard output, as `compose` would send it.
//
// Prints one line of JSON: {"sent", "failed", "seconds", "rate", "error"}; exits 1 if any failed.
'use strict';
const fs = require('fs');
const nodemailer = require('nodemailer');

const FROM = 'PythonHpc sample blog <webinars@example.org>';
const SUBJECT = 'New webinar: Python for HPC';
const BASE = 'http://localhost:5080/unsubscribe/';

// What the service's preview puts in each part for one reader, split once at the stand-ins.
function template(file) {
  return fs.readFileSync(file, 'utf8').split(/(\{\{email\}\}|\{\{unsubscribe\}\})/);
}

function fill(parts, email, unsubscribe) {
  return parts.map((p) => (p === '{{email}}' ? email : p === '{{unsubscribe}}' ? unsubscribe : p)).join('');
}

function composed(i, text, html) {
  const email = `user${i}@example.org`;
  // As long as the service's tokens (31 characters), so that the messages are the same size.
  const unsubscribe = `${BASE}${String(i).padStart(31, '0')}`;
  return {
    from: FROM,
    to: `Reader ${i} <${email}>`,
    subject: SUBJECT,
    text: fill(text, email, unsubscribe),
    html: fill(html, email, unsubscribe),
    list: {
      id: { url: 'webinars.example.org', comment: 'PythonHpc sample blog webinars' },
      unsubscribe: [{ url: unsubscribe }, 'mailto:webinars@example.org?subject=unsubscribe'],
    },
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };
}

function sample(textFile, htmlFile) {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  transport.sendMail(composed(1, template(textFile), template(htmlFile)), (error, info) => {
    if (error) throw error;
    process.stdout.write(info.message);
  });
}

function send(mode, port, count, connections, inFlight, files) {
  const message = mode === 'compose'
    ? ((text, html) => (i) => composed(i, text, html))(template(files[0]), template(files[1]))
    : ((raw) => (i) => ({ envelope: { from: 'webinars@example.org', to: [`user${i}@example.org`] }, raw }))(fs.readFileSync(files[0]));
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: connections, maxMessages: Infinity,
  });
  let sent = 0, failed = 0, next = 0, error = null;
  const start = process.hrtime.bigint();
  const one = () => {
    if (next >= count) return Promise.resolve();
    const i = next++;
    return transport.sendMail(message(i)).then(() => { sent++; }, (e) => { failed++; error = error || String(e); }).then(one);
  };
  Promise.all(Array.from({ length: inFlight }, one)).then(() => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(JSON.stringify({ sent, failed, seconds, rate: sent / seconds, error }));
    transport.close();
    process.exitCode = failed ? 1 : 0;
  });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'sample' && args.length === 2) {
  sample(...args);
} else if ((mode === 'compose' && args.length === 6) || (mode === 'raw' && args.length === 5)) {
  const [port, count, connections, inFlight] = args.slice(0, 4).map(Number);
  send(mode, port, count, connections, inFlight, args.slice(4));
} else {
  console.error('usage: nodemailer.js compose PORT COUNT CONNECTIONS IN_FLIGHT TEXT HTML | raw PORT COUNT CONNECTIONS IN_FLIGHT EML | sample TEXT HTML');
  process.exit(2);
}
