/**
 * Number formatting that reproduces Python's float formatting, so that log text and
 * contributor strings ("rtt_delta=130.0ms(severe)") are byte-identical to wanctl v1.3.
 */

/** Python `repr(float)`: shortest round-trip digits, `.0` on integral values, Python exponent style. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip.
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const negative = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  // Python uses exponent form when exp < -4 or exp >= 16 (repr(0.0001) = '0.0001', repr(1e-05) = '1e-05').
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intLen = exp + 1;
    if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
    return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  return formatExp(sign, digits, exp);
}

function formatExp(sign: string, digits: string, exp: number): string {
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp).toString().padStart(2, '0');
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
}

/**
 * Python `format(x, '.<n>f')`: correctly rounded, exact ties to even (JS toFixed rounds ties up).
 */
export function pyFixed(x: number, fractionDigits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Math.abs(x) >= 1e21) return pyFloatRepr(x);
  let s = x.toFixed(fractionDigits);
  // Fast path: far from a tie, toFixed is already Python's answer.
  const scaled = Math.abs(x) * 10 ** fractionDigits;
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6) {
    return (x < 0 || Object.is(x, -0)) && !s.startsWith('-') ? `-${s}` : s;
  }
  // Detect an exact tie from the exact decimal expansion of the double.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + fractionDigits);
  if (tail.length > 0 && tail[0] === '5' && /^50*$/.test(tail)) {
    const kept = exact.slice(0, dot + 1 + fractionDigits).replace(/\.$/, '');
    const lastDigit = Number(kept[kept.length - 1]);
    if (lastDigit % 2 === 0) s = (x < 0 ? '-' : '') + kept; // ties to even: truncate
  }
  if ((x < 0 || Object.is(x, -0)) && !s.startsWith('-')) s = `-${s}`;
  return s;
}
