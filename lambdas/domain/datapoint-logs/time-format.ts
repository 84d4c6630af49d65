/**
 * IAP timestamps: `utc` like `2019-01-11 23:27:46.045 UTC`, `local` like
 * `2019-01-12 02:27:46.045 Europe/Kirov` in the device's time zone (UTC when unknown).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether the runtime knows an IANA time zone name. */
export function isTimeZone(name: string): boolean {
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

const millis = (ms: number) => String(((ms % 1000) + 1000) % 1000).padStart(3, '0');

export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}.${millis(ms)} UTC`;
}

export function formatLocal(ms: number, timeZone: string | undefined): string {
  if (!timeZone || timeZone === 'UTC') return formatUtc(ms);
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.${millis(ms)} ${timeZone}`;
}

/**
 * A time zone for a longitude when a device reports only its position: the nautical zone
 * (`Etc/GMT-3` is UTC+3). An approximation; an IANA zone the device reports wins.
 */
export function zoneForLongitude(longitude: number): string | undefined {
  if (!Number.isFinite(longitude) || longitude < -180 || longitude > 180) return undefined;
  const offset = Math.round(longitude / 15);
  if (offset === 0) return 'UTC';
  // The Etc zones have inverted signs: Etc/GMT-3 is three hours ahead of UTC.
  return `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}
