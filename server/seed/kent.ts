/**
 * Static reference data for Kent: areas, districts (real ONS codes), real towns and villages and real
 * postcode districts (outward codes). Community groupings and their names are made up for the demo data:
 * the real Communities of Schools are aligned to NHS Primary Care Networks whose boundaries are not
 * reproduced here.
 */

export const LA_CODE = 886;
export const LA_NAME = 'Kent';
export const LA_ONS_CODE = 'E10000016';

export interface AreaRef {
  code: string;
  name: string;
}

export const AREAS: readonly AreaRef[] = [
  { code: 'NORTH', name: 'North Kent' },
  { code: 'WEST', name: 'West Kent' },
  { code: 'EAST', name: 'East Kent' },
  { code: 'SOUTH', name: 'South Kent' },
];

export interface CommunityRef {
  /** Locality name: the community is "<locality> Community of Schools" and its PCN "<locality> PCN". */
  locality: string;
  /** Real towns and villages in the locality, used to name schools and settings. */
  towns: readonly string[];
}

export interface DistrictRef {
  onsCode: string;
  name: string;
  areaCode: string;
  /** Three-letter prefix of community codes, e.g. "ASH" for "ASH-01". */
  abbr: string;
  /** Real postcode districts covering the district. */
  outwardCodes: readonly string[];
  /** Relative deprivation, used to centre % FSM (Kent average ~ 22%). */
  fsmMean: number;
  /** 4 or 5 communities. */
  communities: readonly CommunityRef[];
}

export const DISTRICTS: readonly DistrictRef[] = [
  {
    onsCode: 'E07000105',
    name: 'Ashford',
    areaCode: 'SOUTH',
    abbr: 'ASH',
    fsmMean: 21,
    outwardCodes: ['TN23', 'TN24', 'TN25', 'TN26', 'TN27', 'TN30'],
    communities: [
      { locality: 'Ashford Central', towns: ['Ashford', 'Willesborough', 'Beaver', 'South Willesborough', 'Godinton'] },
      { locality: 'Ashford North', towns: ['Kennington', 'Goat Lees', 'Bybrook', 'Little Chart', 'Hothfield'] },
      {
        locality: 'Ashford South',
        towns: ['Kingsnorth', 'Park Farm', 'Stanhope', 'Singleton', 'Great Chart', 'Shadoxhurst'],
      },
      {
        locality: 'Tenterden and Weald',
        towns: ['Tenterden', 'Rolvenden', 'High Halden', 'Bethersden', 'Smarden', 'Woodchurch', 'Wittersham'],
      },
      { locality: 'Wye and Downs', towns: ['Wye', 'Charing', 'Chilham', 'Brook', 'Mersham', 'Smeeth', 'Challock'] },
    ],
  },
  {
    onsCode: 'E07000106',
    name: 'Canterbury',
    areaCode: 'EAST',
    abbr: 'CAN',
    fsmMean: 20,
    outwardCodes: ['CT1', 'CT2', 'CT3', 'CT4', 'CT5', 'CT6'],
    communities: [
      { locality: 'Canterbury City', towns: ['Canterbury', 'Wincheap', 'Thanington', "St Stephen's", 'Hales Place'] },
      {
        locality: 'Canterbury Rural',
        towns: ['Bridge', 'Chartham', 'Littlebourne', 'Adisham', 'Barham', 'Petham', 'Wickhambreaux'],
      },
      { locality: 'Canterbury North', towns: ['Sturry', 'Blean', 'Hersden', 'Westbere', 'Rough Common', 'Harbledown'] },
      { locality: 'Whitstable', towns: ['Whitstable', 'Tankerton', 'Chestfield', 'Swalecliffe', 'Seasalter'] },
      { locality: 'Herne Bay', towns: ['Herne Bay', 'Herne', 'Broomfield', 'Greenhill', 'Beltinge', 'Reculver'] },
    ],
  },
  {
    onsCode: 'E07000107',
    name: 'Dartford',
    areaCode: 'NORTH',
    abbr: 'DAR',
    fsmMean: 19,
    outwardCodes: ['DA1', 'DA2', 'DA4', 'DA9', 'DA10'],
    communities: [
      { locality: 'Dartford Town', towns: ['Dartford', 'West Hill', 'Dartford Heath', "Joyden's Wood", 'Temple Hill'] },
      { locality: 'Dartford East', towns: ['Stone', 'Greenhithe', 'Crossways', 'Knockhall', 'Ingress Park'] },
      { locality: 'Swanscombe and Ebbsfleet', towns: ['Swanscombe', 'Ebbsfleet', 'Castle Hill', 'Bean', 'Darenth'] },
      { locality: 'Dartford Rural', towns: ['Wilmington', 'Sutton-at-Hone', 'Hawley', 'Longfield', 'Southfleet'] },
    ],
  },
  {
    onsCode: 'E07000108',
    name: 'Dover',
    areaCode: 'SOUTH',
    abbr: 'DOV',
    fsmMean: 27,
    outwardCodes: ['CT13', 'CT14', 'CT15', 'CT16', 'CT17'],
    communities: [
      { locality: 'Dover Town', towns: ['Dover', 'River', 'Whitfield', 'Buckland', 'Temple Ewell', 'Capel-le-Ferne'] },
      { locality: 'Deal', towns: ['Deal', 'Walmer', 'Kingsdown', 'Sholden', 'Mill Hill'] },
      { locality: 'Sandwich and Eastry', towns: ['Sandwich', 'Eastry', 'Ash', 'Worth', 'Woodnesborough'] },
      {
        locality: 'Dover Rural',
        towns: ['Aylesham', 'Shepherdswell', 'Eythorne', 'Nonington', "St Margaret's-at-Cliffe", 'Lydden'],
      },
    ],
  },
  {
    onsCode: 'E07000109',
    name: 'Gravesham',
    areaCode: 'NORTH',
    abbr: 'GRA',
    fsmMean: 24,
    outwardCodes: ['DA11', 'DA12', 'DA13', 'ME3'],
    communities: [
      { locality: 'Gravesend Central', towns: ['Gravesend', 'Milton', 'Denton', 'Riverside', 'Windmill Hill'] },
      { locality: 'Northfleet', towns: ['Northfleet', 'Perry Street', 'Painters Ash', 'Rosherville', 'Springhead'] },
      {
        locality: 'Gravesend South',
        towns: ['Singlewell', 'Kings Farm', 'Riverview Park', 'Istead Rise', 'Westcourt'],
      },
      { locality: 'Gravesham Rural', towns: ['Meopham', 'Higham', 'Shorne', 'Cobham', 'Vigo', 'Culverstone'] },
    ],
  },
  {
    onsCode: 'E07000110',
    name: 'Maidstone',
    areaCode: 'WEST',
    abbr: 'MAI',
    fsmMean: 18,
    outwardCodes: ['ME14', 'ME15', 'ME16', 'ME17', 'ME18'],
    communities: [
      { locality: 'Maidstone Central', towns: ['Maidstone', 'Fant', 'Barming', 'Tovil', 'Allington'] },
      { locality: 'Maidstone North', towns: ['Penenden Heath', 'Ringlestone', 'Boxley', 'Detling', 'Sandling'] },
      {
        locality: 'Maidstone East',
        towns: ['Bearsted', 'Thurnham', 'Hollingbourne', 'Downswood', 'Leeds', 'Harrietsham', 'Lenham'],
      },
      { locality: 'Maidstone South', towns: ['Park Wood', 'Shepway', 'Loose', 'Coxheath', 'Senacre', 'Linton'] },
      {
        locality: 'Maidstone Weald',
        towns: ['Headcorn', 'Marden', 'Staplehurst', 'Sutton Valence', 'Yalding', 'Boughton Monchelsea'],
      },
    ],
  },
  {
    onsCode: 'E07000111',
    name: 'Sevenoaks',
    areaCode: 'NORTH',
    abbr: 'SEV',
    fsmMean: 12,
    outwardCodes: ['TN13', 'TN14', 'TN15', 'TN8', 'BR8', 'DA3'],
    communities: [
      { locality: 'Sevenoaks Town', towns: ['Sevenoaks', 'Riverhead', 'Dunton Green', 'Otford', 'Kemsing', 'Seal'] },
      {
        locality: 'Swanley and Darent Valley',
        towns: ['Swanley', 'Hextable', 'Crockenhill', 'Farningham', 'Eynsford', 'Horton Kirby'],
      },
      {
        locality: 'Edenbridge and Westerham',
        towns: ['Edenbridge', 'Westerham', 'Brasted', 'Sundridge', 'Chiddingstone', 'Penshurst'],
      },
      {
        locality: 'New Ash Green and Hartley',
        towns: ['New Ash Green', 'Hartley', 'West Kingsdown', 'Fawkham', 'Halstead', 'Knockholt'],
      },
    ],
  },
  {
    onsCode: 'E07000112',
    name: 'Folkestone and Hythe',
    areaCode: 'SOUTH',
    abbr: 'FOL',
    fsmMean: 26,
    outwardCodes: ['CT18', 'CT19', 'CT20', 'CT21', 'TN28', 'TN29'],
    communities: [
      { locality: 'Folkestone Central', towns: ['Folkestone', 'Cheriton', 'Sandgate', 'Morehall', 'Foord'] },
      {
        locality: 'Folkestone North Downs',
        towns: ['Hawkinge', 'Densole', 'Lyminge', 'Elham', 'Etchinghill', 'Capel'],
      },
      { locality: 'Hythe', towns: ['Hythe', 'Saltwood', 'Seabrook', 'Sellindge', 'Lympne', 'Palmarsh'] },
      {
        locality: 'Romney Marsh',
        towns: ['New Romney', 'Lydd', 'Dymchurch', "St Mary's Bay", 'Brookland', 'Greatstone'],
      },
    ],
  },
  {
    onsCode: 'E07000113',
    name: 'Swale',
    areaCode: 'EAST',
    abbr: 'SWA',
    fsmMean: 27,
    outwardCodes: ['ME9', 'ME10', 'ME11', 'ME12', 'ME13'],
    communities: [
      {
        locality: 'Sittingbourne Central',
        towns: ['Sittingbourne', 'Milton Regis', 'Murston', 'Kemsley', 'Grove Park'],
      },
      { locality: 'Sittingbourne Rural', towns: ['Borden', 'Bapchild', 'Tunstall', 'Iwade', 'Newington', 'Bredgar'] },
      { locality: 'Sheppey West', towns: ['Sheerness', 'Queenborough', 'Halfway', 'Blue Town', 'Rushenden'] },
      { locality: 'Sheppey East', towns: ['Minster-on-Sea', 'Eastchurch', 'Leysdown', 'Warden', 'Scocles'] },
      {
        locality: 'Faversham',
        towns: ['Faversham', 'Ospringe', 'Boughton-under-Blean', 'Graveney', 'Selling', 'Teynham'],
      },
    ],
  },
  {
    onsCode: 'E07000114',
    name: 'Thanet',
    areaCode: 'EAST',
    abbr: 'THA',
    fsmMean: 33,
    outwardCodes: ['CT7', 'CT8', 'CT9', 'CT10', 'CT11', 'CT12'],
    communities: [
      { locality: 'Margate', towns: ['Margate', 'Cliftonville', 'Garlinge', 'Westbrook', 'Palm Bay'] },
      { locality: 'Ramsgate', towns: ['Ramsgate', 'Nethercourt', 'Pegwell', 'Cliffsend', 'Newington'] },
      { locality: 'Broadstairs', towns: ['Broadstairs', "St Peter's", 'Kingsgate', 'Reading Street', 'Dumpton'] },
      {
        locality: 'Birchington and Westgate',
        towns: ['Birchington', 'Westgate-on-Sea', 'Minnis Bay', 'Acol', 'St Nicholas-at-Wade'],
      },
      { locality: 'Thanet Villages', towns: ['Minster-in-Thanet', 'Monkton', 'Manston', 'Northwood', 'Haine'] },
    ],
  },
  {
    onsCode: 'E07000115',
    name: 'Tonbridge and Malling',
    areaCode: 'WEST',
    abbr: 'TON',
    fsmMean: 14,
    outwardCodes: ['TN9', 'TN10', 'TN11', 'ME19', 'ME20', 'ME6'],
    communities: [
      { locality: 'Tonbridge', towns: ['Tonbridge', 'Hildenborough', 'Leigh', 'Hadlow', 'Higham Wood'] },
      {
        locality: 'Malling',
        towns: ['West Malling', 'East Malling', 'Kings Hill', 'Leybourne', 'Ryarsh', 'Addington'],
      },
      {
        locality: 'Aylesford and Snodland',
        towns: ['Aylesford', 'Larkfield', 'Ditton', 'Snodland', 'Burham', 'Wouldham'],
      },
      {
        locality: 'Borough Green and Peckham',
        towns: ['Borough Green', 'Wrotham', 'Platt', 'Ightham', 'East Peckham', 'Offham'],
      },
    ],
  },
  {
    onsCode: 'E07000116',
    name: 'Tunbridge Wells',
    areaCode: 'WEST',
    abbr: 'TUN',
    fsmMean: 12,
    outwardCodes: ['TN1', 'TN2', 'TN3', 'TN4', 'TN12', 'TN17', 'TN18'],
    communities: [
      {
        locality: 'Tunbridge Wells Town',
        towns: ['Tunbridge Wells', "St John's", 'Sherwood', 'Rusthall', 'Broadwater Down'],
      },
      {
        locality: 'Southborough and Pembury',
        towns: ['Southborough', 'High Brooms', 'Pembury', 'Bidborough', 'Speldhurst', 'Langton Green'],
      },
      {
        locality: 'Paddock Wood and Rural',
        towns: ['Paddock Wood', 'Horsmonden', 'Brenchley', 'Matfield', 'Capel', 'Lamberhurst'],
      },
      {
        locality: 'Cranbrook and Weald',
        towns: ['Cranbrook', 'Hawkhurst', 'Goudhurst', 'Sissinghurst', 'Frittenden', 'Benenden'],
      },
    ],
  },
];

/** Made-up names for community Chairs and the like (no real person is meant). */
export const FIRST_NAMES: readonly string[] = [
  'Sarah',
  'James',
  'Helen',
  'David',
  'Claire',
  'Mark',
  'Rachel',
  'Paul',
  'Joanne',
  'Andrew',
  'Nicola',
  'Richard',
  'Emma',
  'Simon',
  'Karen',
  'Stephen',
  'Louise',
  'Matthew',
  'Kate',
  'Daniel',
  'Lucy',
  'Gareth',
  'Amanda',
  'Neil',
  'Fiona',
  'Jonathan',
  'Alison',
  'Peter',
  'Victoria',
  'Ian',
  'Gemma',
  'Tom',
  'Hannah',
  'Chris',
  'Priya',
  'Olu',
  'Anjali',
  'Michael',
  'Sian',
  'Graham',
];
export const SURNAMES: readonly string[] = [
  'Hughes',
  'Carter',
  'Whitfield',
  'Ashdown',
  'Pemberton',
  'Marsh',
  'Holloway',
  'Fenwick',
  'Stroud',
  'Kemp',
  'Lawson',
  'Brightwell',
  'Ellison',
  'Harding',
  'Cole',
  'Mitchell',
  'Okafor',
  'Patel',
  'Sandhu',
  'Gill',
  'Barker',
  'Fletcher',
  'Tanner',
  'Hollis',
  'Denham',
  'Rowe',
  'Chambers',
  'Sutton',
  'Prescott',
  'Vaughan',
  'Moss',
  'Blake',
  'Reed',
  'Hartley',
  'Quinn',
  'Norris',
  'Webb',
  'Lambert',
  'Farrow',
  'Ingram',
];

/** Saints for church school names. */
export const SAINTS: readonly string[] = [
  "St Mary's",
  "St Peter's",
  "St John's",
  "St Michael's",
  "St Augustine's",
  "St Nicholas'",
  "St Margaret's",
  "St Andrew's",
  "St Paul's",
  "St James'",
  "St Martin's",
  "St Mildred's",
  "St Edmund's",
  "St Thomas'",
  'Holy Trinity',
  "St Katharine's",
  "St George's",
  "St Laurence's",
];
