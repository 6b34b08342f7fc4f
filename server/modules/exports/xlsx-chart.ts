import JSZip from 'jszip';

/**
 * exceljs reads and writes charts not at all, so a chart is added to the finished file: a DrawingML chart
 * part, a drawing that anchors it on the sheet, and the relationships and content types that tie them in
 * (ECMA-376 part 1, §21.2 and §20.5). The series refer to cells of the sheet and also carry cached values,
 * so Excel, LibreOffice and viewers that do not recalculate all draw the same picture.
 */
export interface LineChartSpec {
  sheetName: string;
  title: string;
  /**
   * The x axis. Text labels give a category axis: every point one step apart whatever the gap between them.
   * Dates (Excel serial day numbers of the cells in range) give a date axis, on which the points stand at
   * their true distance in time: a year with no figures shows as a gap instead of being silently skipped.
   */
  categories:
    | { range: string; labels: string[] }
    | {
        range: string;
        dates: number[];
        format: string;
        baseTimeUnit: 'days' | 'months' | 'years';
        majorUnit?: number;
        majorTimeUnit?: 'days' | 'months' | 'years';
      };
  series: { name: string; nameCell: string; range: string; values: number[]; colour: string; dashed?: boolean }[];
  /** Number format of the value axis, e.g. '"£"#,##0,,"m"'. */
  axisFormat: string;
  /** Zero-based cell anchor: from (col,row) to (col,row). */
  anchor: { fromCol: number; fromRow: number; toCol: number; toRow: number };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function absolute(sheet: string, range: string): string {
  const abs = range
    .split(':')
    .map((c) => c.replace(/^([A-Z]+)(\d+)$/, '$$$1$$$2'))
    .join(':');
  return `'${sheet.replace(/'/g, "''")}'!${abs}`;
}

function chartXml(spec: LineChartSpec): string {
  const c = spec.categories;
  const catRef = esc(absolute(spec.sheetName, c.range));
  const cat =
    'dates' in c
      ? `<c:cat><c:numRef><c:f>${catRef}</c:f><c:numCache><c:formatCode>${esc(c.format)}</c:formatCode><c:ptCount val="${c.dates.length}"/>${c.dates
          .map((d, i) => `<c:pt idx="${i}"><c:v>${d}</c:v></c:pt>`)
          .join('')}</c:numCache></c:numRef></c:cat>`
      : `<c:cat><c:strRef><c:f>${catRef}</c:f><c:strCache><c:ptCount val="${c.labels.length}"/>${c.labels
          .map((l, i) => `<c:pt idx="${i}"><c:v>${esc(l)}</c:v></c:pt>`)
          .join('')}</c:strCache></c:strRef></c:cat>`;
  // CT_CatAx and CT_DateAx share their first elements; the tail differs (§21.2.2.25, §21.2.2.39).
  const axHead = `<c:axId val="500000001"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="b"/>`;
  const axMid = (fmt: string) =>
    `<c:numFmt formatCode="${esc(fmt)}" sourceLinked="0"/><c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="low"/><c:crossAx val="500000002"/><c:crosses val="autoZero"/><c:auto val="0"/><c:lblOffset val="100"/>`;
  const xAxis =
    'dates' in c
      ? `<c:dateAx>${axHead}${axMid(c.format)}<c:baseTimeUnit val="${c.baseTimeUnit}"/>${
          c.majorUnit
            ? `<c:majorUnit val="${c.majorUnit}"/><c:majorTimeUnit val="${c.majorTimeUnit ?? c.baseTimeUnit}"/>`
            : ''
        }</c:dateAx>`
      : `<c:catAx>${axHead}${axMid('General').replace('<c:auto val="0"/>', '<c:auto val="1"/><c:lblAlgn val="ctr"/>')}<c:noMultiLvlLbl val="0"/></c:catAx>`;
  const series = spec.series
    .map(
      (s, i) => `<c:ser><c:idx val="${i}"/><c:order val="${i}"/>
<c:tx><c:strRef><c:f>${esc(absolute(spec.sheetName, s.nameCell))}</c:f><c:strCache><c:ptCount val="1"/><c:pt idx="0"><c:v>${esc(s.name)}</c:v></c:pt></c:strCache></c:strRef></c:tx>
<c:spPr><a:ln w="28575" cap="rnd"><a:solidFill><a:srgbClr val="${s.colour}"/></a:solidFill>${s.dashed ? '<a:prstDash val="dash"/>' : ''}<a:round/></a:ln></c:spPr>
<c:marker><c:symbol val="circle"/><c:size val="6"/><c:spPr><a:solidFill><a:srgbClr val="${s.colour}"/></a:solidFill></c:spPr></c:marker>
${cat}
<c:val><c:numRef><c:f>${esc(absolute(spec.sheetName, s.range))}</c:f><c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="${s.values.length}"/>${s.values
        .map((v, j) => `<c:pt idx="${j}"><c:v>${v}</c:v></c:pt>`)
        .join('')}</c:numCache></c:numRef></c:val><c:smooth val="0"/></c:ser>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<c:roundedCorners val="0"/>
<c:chart>
<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1400" b="1"/></a:pPr><a:r><a:rPr lang="en-GB" sz="1400" b="1"/><a:t>${esc(spec.title)}</a:t></a:r></a:p></c:rich></c:tx><c:overlay val="0"/></c:title>
<c:autoTitleDeleted val="0"/>
<c:plotArea><c:layout/>
<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>
${series}
<c:marker val="1"/><c:axId val="500000001"/><c:axId val="500000002"/></c:lineChart>
${xAxis}
<c:valAx><c:axId val="500000002"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/><c:numFmt formatCode="${esc(spec.axisFormat)}" sourceLinked="0"/><c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="500000001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>
</c:plotArea>
<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>
<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/>
</c:chart>
</c:chartSpace>`;
}

function drawingXml(spec: LineChartSpec): string {
  const { fromCol, fromRow, toCol, toRow } = spec.anchor;
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">
<xdr:twoCellAnchor editAs="oneCell">
<xdr:from><xdr:col>${fromCol}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>${fromRow}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>
<xdr:to><xdr:col>${toCol}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>${toRow}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>
<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="${esc(spec.title)}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>
<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>
<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/></a:graphicData></a:graphic>
</xdr:graphicFrame><xdr:clientData/>
</xdr:twoCellAnchor>
</xdr:wsDr>`;
}

const REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const REL_DRAWING = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing';
const REL_CHART = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart';

/** Elements that must follow <drawing> in a worksheet (CT_Worksheet sequence). */
const AFTER_DRAWING = [
  '<legacyDrawing',
  '<legacyDrawingHF',
  '<drawingHF',
  '<picture',
  '<oleObjects',
  '<controls',
  '<webPublishItems',
  '<tableParts',
  '<extLst',
  '</worksheet>',
];

/** Adds one line chart to a sheet that has no drawing yet; returns the new file. */
export async function addLineChart(xlsx: Buffer, spec: LineChartSpec): Promise<Buffer> {
  const zip = await JSZip.loadAsync(xlsx);
  const read = async (p: string) => {
    const f = zip.file(p);
    if (!f) throw new Error(`xlsx part ${p} is missing`);
    return f.async('string');
  };
  const workbook = await read('xl/workbook.xml');
  const sheetTag = new RegExp(
    `<sheet [^>]*name="${esc(spec.sheetName).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*/>`,
  ).exec(workbook);
  if (!sheetTag) throw new Error(`sheet "${spec.sheetName}" not found`);
  const rid = /r:id="([^"]+)"/.exec(sheetTag[0])![1];
  const wbRels = await read('xl/_rels/workbook.xml.rels');
  const target = new RegExp(`<Relationship [^>]*Id="${rid}"[^>]*/>`).exec(wbRels)![0].match(/Target="([^"]+)"/)![1];
  const sheetPath = 'xl/' + target.replace(/^\/?xl\//, '').replace(/^\//, '');
  const sheetFile = sheetPath.split('/').pop()!;
  const relsPath = `xl/worksheets/_rels/${sheetFile}.rels`;

  const n = Object.keys(zip.files).filter((p) => /^xl\/charts\/chart\d+\.xml$/.test(p)).length + 1;
  const d = Object.keys(zip.files).filter((p) => /^xl\/drawings\/drawing\d+\.xml$/.test(p)).length + 1;
  zip.file(`xl/charts/chart${n}.xml`, chartXml(spec));
  zip.file(`xl/drawings/drawing${d}.xml`, drawingXml(spec));
  zip.file(
    `xl/drawings/_rels/drawing${d}.xml.rels`,
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="${REL_NS}"><Relationship Id="rId1" Type="${REL_CHART}" Target="../charts/chart${n}.xml"/></Relationships>`,
  );

  let rels = zip.file(relsPath)
    ? await read(relsPath)
    : `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="${REL_NS}"></Relationships>`;
  if (rels.includes(REL_DRAWING)) throw new Error(`sheet "${spec.sheetName}" already has a drawing`);
  const drawingRid = `rIdChart${n}`;
  rels = rels.replace(
    '</Relationships>',
    `<Relationship Id="${drawingRid}" Type="${REL_DRAWING}" Target="../drawings/drawing${d}.xml"/></Relationships>`,
  );
  zip.file(relsPath, rels);

  let sheet = await read(sheetPath);
  if (!/xmlns:r=/.test(sheet.slice(0, 1000)))
    sheet = sheet.replace(
      '<worksheet ',
      '<worksheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ',
    );
  const at = Math.min(...AFTER_DRAWING.map((tag) => sheet.indexOf(tag)).filter((i) => i >= 0));
  sheet = sheet.slice(0, at) + `<drawing r:id="${drawingRid}"/>` + sheet.slice(at);
  zip.file(sheetPath, sheet);

  let types = await read('[Content_Types].xml');
  types = types.replace(
    '</Types>',
    `<Override PartName="/xl/charts/chart${n}.xml" ContentType="application/vnd.openxmlformats-officedocument.drawingml.chart+xml"/>` +
      `<Override PartName="/xl/drawings/drawing${d}.xml" ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/></Types>`,
  );
  zip.file('[Content_Types].xml', types);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}
