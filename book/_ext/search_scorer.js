/*
 * The book's search scorer and query splitter (Sphinx's html_search_scorer:
 * this file is pasted into language_data.js, before searchtools.js).
 *
 * 1. A page gains points by the share of the query's words that one of its
 *    headings holds together (Sphinx itself scores a page by its single
 *    best word).
 * 2. Reference pages (the appendices, the references, the preface) mention
 *    every chapter's title and main terms, so Sphinx's word scores rank them
 *    as high as the chapter that teaches a term. They keep their score when
 *    the query is in their own title ("glossary") and get a quarter of it
 *    otherwise, so the chapter comes first.
 * 3. Chinese is written without spaces: Sphinx splits the query on
 *    non-letters only, so "学习率预热" is one unknown word and finds nothing.
 *    A Chinese run that is not a word of the index is cut into the longest
 *    words the index holds (forward maximum matching over the index's
 *    terms, which jieba made at build time); characters that start no word
 *    are dropped.
 */
var Scorer = {
  // Sphinx's defaults (searchtools.js)
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,

  reference: /^book\/(errata|notation|glossary|references|instructors|preface)$/,

  // Sphinx scores a page by its best-matching word alone, so a page with
  // "weights" in one heading ties with the chapter titled "... weight
  // decay ...". A page also gains up to 20 points by the share of the
  // query's words that one of its headings holds together.
  _coverage: null,
  _coverageFor: null,

  coverage: (docname, query) => {
    if (Scorer._coverageFor !== query) {
      Scorer._coverageFor = query;
      Scorer._coverage = new Map();
      const index = Search._index;
      const words = splitQuery(query)
        .map((w) => w.toLowerCase())
        .map((w) => (/\p{Script=Han}/u.test(w)
                     ? w : w.slice(0, Math.max(3, w.length - 2))));
      if (!index || !words.length) return 0;
      for (const [title, places] of Object.entries(index.alltitles)) {
        const text = title.toLowerCase();
        const share = words.filter((w) => text.includes(w)).length
                      / words.length;
        for (const [doc] of places) {
          const name = index.docnames[doc];
          Scorer._coverage.set(name, Math.max(
            share, Scorer._coverage.get(name) || 0));
        }
      }
    }
    return Scorer._coverage.get(docname) || 0;
  },

  score: (result) => {
    const [docname, title, , , score] = result;
    const query = (new URLSearchParams(window.location.search).get("q")
                   || "").toLowerCase().trim();
    const total = score + Math.round(20 * Scorer.coverage(docname, query));
    if (!Scorer.reference.test(docname)) return total;
    if (query && title.toLowerCase().includes(query)) return total;
    return Math.floor(total / 4);
  },
};

var splitQuery = (query) => {
  const words = query
    .split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)
    .filter((term) => term);
  const index = (typeof Search !== "undefined" && Search._index) || null;
  if (!index) return words;
  const known = (w) => w in index.terms || w in index.titleterms;
  const han = /\p{Script=Han}/u;
  const out = [];
  for (const word of words) {
    if (!han.test(word) || known(word.toLowerCase())) {
      out.push(word);
      continue;
    }
    const chars = Array.from(word);
    let i = 0;
    while (i < chars.length) {
      let j = Math.min(chars.length, i + 12);
      for (; j > i + 1; j--) {
        if (known(chars.slice(i, j).join("").toLowerCase())) break;
      }
      if (j > i + 1) out.push(chars.slice(i, j).join(""));
      i = j > i + 1 ? j : i + 1;
    }
  }
  return out.length ? out : words;
};
