import { loadConfig } from '../config';

/** The local authority whose high-needs block this hub holds: HUB_LA (a DfE LA code) and HUB_LA_NAME. */
export interface LocalAuthority {
  /** DfE three-digit LA code, e.g. 919; LAESTAB is this code followed by the four-digit establishment number. */
  code: number;
  name: string;
}

let current: LocalAuthority | null = null;

/** The hub's local authority: set once at start-up from the configuration, else read from it on first use. */
export function localAuthority(): LocalAuthority {
  if (!current) current = loadConfig().localAuthority;
  return current;
}

/** For start-up (and tests that run a hub for another authority). */
export function setLocalAuthority(la: LocalAuthority): void {
  current = la;
}

/** The LAESTAB of an establishment number in this authority (e.g. 919 and 2096 give 9192096). */
export function laestabOf(establishmentNumber: number, la: LocalAuthority = localAuthority()): number {
  return la.code * 10000 + establishmentNumber;
}
