/**
 * The primary threshold of statistical disclosure control, written once: a count of children from SMALL_MIN
 * to SMALL_MAX is "small" and is shown as suppressed ("c") to anyone not exempt for it (disclosure.ts says
 * who is, and adds the secondary suppression that keeps it from being recovered).
 * Pure TypeScript with no imports, like common/money.ts, so the server's disclosure control (which loads
 * the glpk solver) and the Excel add-in's "Prepare to share" (which bundles this file with esbuild) read
 * the same numbers.
 */

export const SMALL_MIN = 1;
export const SMALL_MAX = 4;

/** Is this count small (from SMALL_MIN to SMALL_MAX)? Only whole counts are; 0 is not. */
export const isSmall = (n: number): boolean => Number.isInteger(n) && n >= SMALL_MIN && n <= SMALL_MAX;

/** The range in words, for messages and descriptions: "1 to 4". */
export const SMALL_RANGE = `${SMALL_MIN} to ${SMALL_MAX}`;
