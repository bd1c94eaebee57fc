"""The truths planted by the generators of directions 4 and 9 (issue 18), for the manifest.

* ``neet_municipalities``: municipalities whose graduates of both cohorts are 15–20 %
  «Не учатся и не работают» (demo/graduates.py), per year, with the planted share;
* ``additional_ed_coverage``: per year × municipality, the children aged 5–18 enrolled, the
  population aged 5–18 and their ratio × 100, exactly as the mart must compute it
  (demo/additional_ed.py);
* ``poor_climate_schools``: schools whose survey answers are planted far less positive
  (demo/survey.py), per year;
* ``survey_three_respondent_schools``: the school per year with exactly three respondents
  (all its survey rates must be suppressed).
"""

from __future__ import annotations


def planted(region) -> dict:
    from rsoko_pipelines.demo.additional_ed import planted_coverage
    from rsoko_pipelines.demo.graduates import planted_neet
    from rsoko_pipelines.demo.survey import planted_poor_climate, three_respondent_schools

    return {
        "neet_municipalities": planted_neet(region),
        "additional_ed_coverage": planted_coverage(region),
        "poor_climate_schools": planted_poor_climate(region),
        "survey_three_respondent_schools": three_respondent_schools(region),
    }
