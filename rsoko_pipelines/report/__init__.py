"""Reports for people who read rather than query: a static HTML site (region, municipality
and school pages with SVG charts) and an XLSX workbook per municipality, built from a
published version (`rsoko report`). Reads only the published database."""
