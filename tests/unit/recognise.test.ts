import { IMPORT_KINDS, requireKind } from '../../server/modules/imports/registry';
import { looksLike } from '../../server/modules/imports/recognise';

const say = (header: string[], kind = 'areas') => looksLike({ header }, requireKind(kind), IMPORT_KINDS);

describe('a file given as the wrong kind says what it looks like', () => {
  it('names the public files the officer holds', () => {
    expect(say(['URN', 'LA (code)', 'LA (name)', 'EstablishmentNumber', 'EstablishmentName'])).toBe(
      ' It looks like a GIAS establishment file (edubasealldata…csv), which npm run import:gias or POST /import/gias reads.',
    );
    expect(say(['URN', 'LinkURN', 'LinkName', 'LinkType', 'LinkEstablishedDate'], 'communities')).toMatch(
      /^ It looks like a GIAS links file \(links_edubasealldata…csv\), which POST \/import\/gias-links reads/,
    );
    expect(say(['LAESTAB', 'School Name', 'Notional SEN Budget'])).toMatch(
      /APT's layout, which the apt-budgets import reads/,
    );
    expect(say(['time_period', 'geographic_level', 'la_code', 'category_of_expenditure'])).toMatch(
      /an S251 outturn file from the statistics service/,
    );
  });

  it("names another of the hub's templates before any public file", () => {
    expect(say(['financialYear', 'lineCode', 'name', 'sortOrder', 'budget', 'forecast'], 'areas')).toBe(
      ' It looks like a hn-block-lines file (High Needs block budget lines): import it as hn-block-lines.',
    );
    expect(say(['schoolUrn', 'communityCode', 'effectiveFrom'], 'community-pots')).toBe(
      ' It looks like a community-memberships file (Community of Schools memberships): import it as community-memberships.',
    );
  });

  it('else shows the header it found', () => {
    expect(say(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toBe(" The file's header is: a, b, c, d, e, f, ….");
    expect(say([])).toBe('');
  });
});
