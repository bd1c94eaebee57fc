"""rsoko: the data platform of a regional centre for education quality assessment."""
