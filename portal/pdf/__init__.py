"""PDF catalogues of the published offer (DESIGN §6).

- ``filters``: the catalogue filters (the public search's query string) and their SQL;
- ``catalogue``: published rows → formations → ``write_catalogue(filters, out)``;
- ``builder``: the ReportLab layout, plain data in, PDF out (no database, no Flask);
- ``jobs``: background builds and the file cache shared by the workers.
"""

from .catalogue import CatalogueResult, write_catalogue
from .filters import CatalogueFilters, FilterError, parse_filters

__all__ = ["CatalogueFilters", "CatalogueResult", "FilterError", "parse_filters", "write_catalogue"]
