import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import Decimal from 'decimal.js';
import { readMoney } from './money';
import { isIsoDate, ISO_DATE_SHAPE } from './dates';

const MONEY_OUT_RE = /^-?\d+\.\d{2}$/;

/** Normalises an exact decimal (string from pg `numeric`, or Decimal) to a 2-dp string. Never goes through a float. */
export function toMoneyString(value: string | Decimal): string {
  return new Decimal(value).toFixed(2);
}

function parseMoneyInput(value: unknown): string {
  // The one money rule (server/common/money.ts); the scalar takes signed amounts, fields refuse negatives themselves.
  const read = readMoney(value, { field: 'Money', allowNegative: true });
  if (!read.ok)
    throw new GraphQLError(`Money must be a decimal string: ${read.problem.message}`, {
      extensions: { code: 'BAD_USER_INPUT', reason: 'BAD_AMOUNT' },
    });
  return read.value;
}

/**
 * Pounds and pence as an exact decimal string ("1234.50"). Serialised as a string so that no JSON
 * client turns it into a binary float; inputs must be strings too.
 */
export const MoneyScalar = new GraphQLScalarType({
  name: 'Money',
  description:
    'An exact amount in pounds sterling as a decimal string with two decimal places, e.g. "1234.50". ' +
    "Never a float: parse it with a decimal library (or Excel's VALUE) if you need arithmetic.",
  serialize(value) {
    if (value instanceof Decimal) return value.toFixed(2);
    // numeric(14,2) already arrives as "1234.50": skip the decimal parse on the hot path.
    if (typeof value === 'string') return MONEY_OUT_RE.test(value) ? value : toMoneyString(value);
    if (typeof value === 'number' && Number.isInteger(value)) return value.toFixed(2);
    throw new GraphQLError('Internal error: a Money value was not an exact decimal');
  },
  parseValue: parseMoneyInput,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('Money literals must be strings, e.g. "1234.50" (floats are never accepted)', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return parseMoneyInput(ast.value);
  },
});

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !ISO_DATE_SHAPE.test(value)) {
    throw new GraphQLError(`Date must be an ISO date "YYYY-MM-DD"; got ${JSON.stringify(value)}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  if (!isIsoDate(value)) {
    throw new GraphQLError(`Date ${value} does not exist`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

/** A calendar date with no time zone ("2025-09-01"), as Postgres `date`. */
export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar date with no time or time zone, ISO 8601 "YYYY-MM-DD".',
  serialize(value) {
    if (typeof value === 'string') return value.slice(0, 10);
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    throw new GraphQLError('Internal error: a Date value was not a date');
  },
  parseValue: parseDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('Date literals must be strings "YYYY-MM-DD"', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return parseDate(ast.value);
  },
});

function parseDecimal(value: unknown): string {
  if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value.trim())) {
    throw new GraphQLError(`Decimal must be a decimal string such as "0.75"; got ${JSON.stringify(value)}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return new Decimal(value.trim()).toString();
}

/** A rate or percentage as an exact decimal string ("0.75" for 75%). */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'An exact decimal number as a string, e.g. "0.75" for a 75% rate. Never a float.',
  serialize(value) {
    if (value instanceof Decimal) return value.toString();
    if (typeof value === 'string') return new Decimal(value).toString();
    if (typeof value === 'number' && Number.isInteger(value)) return String(value);
    throw new GraphQLError('Internal error: a Decimal value was not exact');
  },
  parseValue: parseDecimal,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('Decimal literals must be strings such as "0.75"', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return parseDecimal(ast.value);
  },
});
