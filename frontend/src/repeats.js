// A stored activity's volumes read back as the repeat that made them (domain.repeats.find_series on
// the server): a patrol every day for a month is shown, and changed, as one patrol every day.

import { canonical } from "./signing.js";

const DAY = 24 * 3600e3;
const MAX_EVERY_DAYS = 366;

const start = (v) => Date.parse(v.time_start.value);
const end = (v) => (v.time_end ? Date.parse(v.time_end.value) : null);
const where = (v) => canonical(v.volume);

/** {perOccurrence, everyDays, times} for volumes stored occurrence after occurrence, or null unless
 * there are two occurrences at least. */
export function findSeries(volumes) {
  const n = volumes.length;
  for (let k = 1; k <= n / 2; k++) {
    if (n % k) continue;
    const step = start(volumes[k]) - start(volumes[0]);
    if (step < DAY || step % DAY || step > MAX_EVERY_DAYS * DAY) continue;
    let same = true;
    for (let i = k; i < n && same; i++) {
      const [a, b] = [volumes[i - k], volumes[i]];
      same = start(b) - start(a) === step && (end(a) === null) === (end(b) === null) &&
        (end(a) === null || end(b) - end(a) === step) && where(a) === where(b);
    }
    if (same) return { perOccurrence: k, everyDays: step / DAY, times: n / k };
  }
  return null;
}

export function often(everyDays) {
  return everyDays === 1 ? "every day" : everyDays === 7 ? "every week" : `every ${everyDays} days`;
}
