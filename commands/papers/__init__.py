"""Papers: the accessible PDFs people file and hand out (issue 23).

document.py renders a `Paper` (a template under templates/ and its values) as a tagged,
reproducible PDF; the other modules make each paper from the features' read models and
declare its file job, which a feature's command names (`!liste pdf` → `list-pdf`): the
PDF is made after the command, off the database thread, in a process of its own.
The features never import this package; it imports them.
"""

from commands.core.registry import Router
from commands.papers import evaluation, listing, minutes, report

router = Router().include(listing.router, report.router, evaluation.router, minutes.router)
