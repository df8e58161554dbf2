// Call-heavy kernel of the everyday kind: two workers each tokenize, parse (recursive descent)
// and evaluate arithmetic expressions over and over: millions of calls to small functions that
// do a little real work each (string scanning, small objects), unlike calls.js's bare arithmetic.
'use strict';
const { isMainThread, runWorkers, whenStarted } = require('./_start.js');
const ROUNDS = Number(process.env.ROUNDS || 1800000);

function isDigit(c) {
  return c >= 48 && c <= 57;
}
function tokenize(src) {
  const out = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (c === 32) i++;
    else if (isDigit(c)) {
      let v = 0;
      while (i < src.length && isDigit(src.charCodeAt(i))) v = v * 10 + (src.charCodeAt(i++) - 48);
      out.push({ k: 'n', v });
    } else out.push({ k: src[i++], v: 0 });
  }
  return out;
}
function makeParser(tokens) {
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++];
  function factor() {
    const t = next();
    if (t.k === '(') {
      const e = expr();
      next();
      return e;
    }
    if (t.k === '-') return { op: 'neg', a: factor() };
    return { op: 'num', v: t.v };
  }
  function term() {
    let a = factor();
    while (peek() && (peek().k === '*' || peek().k === '/')) a = { op: next().k, a, b: factor() };
    return a;
  }
  function expr() {
    let a = term();
    while (peek() && (peek().k === '+' || peek().k === '-')) a = { op: next().k, a, b: term() };
    return a;
  }
  return expr;
}
function evaluate(n) {
  switch (n.op) {
    case 'num':
      return n.v;
    case 'neg':
      return -evaluate(n.a);
    case '+':
      return evaluate(n.a) + evaluate(n.b);
    case '-':
      return evaluate(n.a) - evaluate(n.b);
    case '*':
      return evaluate(n.a) * evaluate(n.b);
    default:
      return evaluate(n.a) / (evaluate(n.b) || 1);
  }
}
const SOURCES = ['1 + 2 * (3 - 4) / 5', '(12 * (7 + 8)) - -3 * 2', '((1 + 2) * (3 + 4) - 5) / (6 - 7 * 8)', '9 * 9 * 9 - (8 + 8) / 2 + 77'];
function run(rounds) {
  let s = 0;
  for (let r = 0; r < rounds; r++) s += evaluate(makeParser(tokenize(SOURCES[r % SOURCES.length]))());
  return s;
}

if (isMainThread) runWorkers(__filename, 2, () => ROUNDS);
else whenStarted(run);
