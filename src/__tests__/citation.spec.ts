import { bibtex, CitedNotebook, plainCitation } from '../citation';

const PERMALINK =
  'https://archive.example/EVN/EG078B/src/commit/0123abcd/demo/calibration/calibration.ipynb';

const notebook: CitedNotebook = {
  experiment: 'EG078B',
  owner: 'demo',
  name: 'calibration',
  title: 'Calibration of EG078B',
  authors: [
    { name: 'Jane Doe', orcid: 'https://orcid.org/0000-0002-1825-0097' },
    { name: 'John Smith' }
  ],
  version: 3,
  updated: '2026-01-02T03:04:05+00:00',
  permalink: PERMALINK
};

/** The value of `field` in a one-entry BibTeX text (fields are one a line). */
function field(entry: string, name: string): string | undefined {
  const line = entry.split('\n').find(l => l.startsWith(`  ${name} = {`));
  return line?.replace(`  ${name} = {`, '').replace(/},?$/, '');
}

/** Braces balance (BibTeX reads a field to its matching brace). */
function balanced(text: string): boolean {
  let depth = 0;
  for (const c of text.replace(/\\[{}]/g, '')) {
    depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    if (depth < 0) {
      return false;
    }
  }
  return depth === 0;
}

describe('bibtex', () => {
  it('cites this version: authors, title, year, permalink, experiment', () => {
    expect(bibtex(notebook)).toBe(
      [
        '@misc{EG078B_demo_calibration_v3,',
        '  author = {Jane Doe and John Smith},',
        '  title = {{Calibration of EG078B}},',
        '  year = {2026},',
        `  howpublished = {\\url{${PERMALINK}}},`,
        '  note = {EVN experiment EG078B, version 3}',
        '}',
        ''
      ].join('\n')
    );
  });

  it("escapes TeX's special characters", () => {
    const entry = bibtex({
      ...notebook,
      title: 'R&D: 100% of $x_1$ #2 {a} ~b^c \\d',
      authors: [{ name: 'Müller_Lüdenscheidt & Co' }]
    });
    expect(field(entry, 'title')).toBe(
      '{R\\&D: 100\\% of \\$x\\_1\\$ \\#2 \\{a\\} ' +
        '\\textasciitilde{}b\\textasciicircum{}c \\textbackslash{}d}'
    );
    expect(field(entry, 'author')).toBe('Müller\\_Lüdenscheidt \\& Co');
    expect(balanced(entry)).toBe(true);
  });

  it('keeps an "and" inside a name from splitting it, and names on one line', () => {
    const entry = bibtex({
      ...notebook,
      authors: [{ name: 'Smith and Sons' }, { name: 'Doe,\n Jane' }]
    });
    expect(field(entry, 'author')).toBe('Smith {and} Sons and Doe, Jane');
  });

  it('escapes what \\url cannot take raw inside an argument', () => {
    const entry = bibtex({
      ...notebook,
      permalink: 'https://a.example/x%20y/a b#frag{}'
    });
    expect(field(entry, 'howpublished')).toBe(
      '\\url{https://a.example/x\\%20y/a\\%20b\\#frag\\%7B\\%7D}'
    );
    expect(balanced(entry)).toBe(true);
  });

  it('has a key per version and leaves the year out when the date is unknown', () => {
    const entry = bibtex({ ...notebook, version: 4, updated: '' });
    expect(entry.startsWith('@misc{EG078B_demo_calibration_v4,\n')).toBe(true);
    expect(field(entry, 'year')).toBeUndefined();
    expect(field(entry, 'note')).toBe('EVN experiment EG078B, version 4');
  });
});

describe('plainCitation', () => {
  it('reads "Authors (year). Title (version N) [Jupyter notebook]. Experiment. permalink"', () => {
    expect(plainCitation(notebook)).toBe(
      'Jane Doe & John Smith (2026). Calibration of EG078B (version 3) ' +
        `[Jupyter notebook]. EVN experiment EG078B. ${PERMALINK}`
    );
  });

  it('lists one, three, and "Family, Given" authors unambiguously', () => {
    const one = plainCitation({ ...notebook, authors: [{ name: 'Jane Doe' }] });
    expect(one.startsWith('Jane Doe (2026). ')).toBe(true);
    const three = plainCitation({
      ...notebook,
      authors: [{ name: 'A A' }, { name: 'B B' }, { name: 'C C' }]
    });
    expect(three.startsWith('A A, B B & C C (2026). ')).toBe(true);
    const inverted = plainCitation({
      ...notebook,
      authors: [{ name: 'Doe, Jane' }, { name: 'Smith, John' }]
    });
    expect(inverted.startsWith('Doe, Jane; Smith, John (2026). ')).toBe(true);
  });

  it('keeps text as typed (no TeX escapes), on one line', () => {
    const text = plainCitation({
      ...notebook,
      title: 'What & why: 100%?',
      authors: [{ name: 'Zoë\nO’Brien' }],
      updated: 'unknown'
    });
    expect(text).toBe(
      'Zoë O’Brien (n.d.). What & why: 100%? (version 3) [Jupyter notebook]. ' +
        `EVN experiment EG078B. ${PERMALINK}`
    );
  });
});
