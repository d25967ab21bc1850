"""Local Sphinx extension for the book (listed under ``sphinx.local_extensions`` in _config.yml).

* ``authoryear``: a pybtex style whose bibliography entries are labelled and sorted by author
  and year ("[Lin et al., 2017]"), the way the chapters cite them ("Lin et al. [2017]"), so the
  text and the bibliography use one style instead of author-year citations pointing at
  numbered entries.
* Each script is written into a page once: sphinx-thebe registers its inline configuration
  again on every read of the environment, and the second copy raised
  ``Identifier 'THEBE_JS_URL' has already been declared`` on every page. The book does not use
  thebe (it has no live-code button), so its scripts are dropped altogether; that also removes
  its only reference to a script outside the site.
"""
from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as _Unsrt
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")


class AuthorYearLabels(BaseLabelStyle):
    """"Lin et al., 2017", "Dawid and Skene, 1979", "Goodfellow, 2016"; a/b suffixes on ties."""

    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            year = entry.fields.get("year", "n.d.")
            if not people:
                names = entry.fields.get("organization", entry.key)
            elif len(people) == 1:
                names = _surname(people[0])
            elif len(people) == 2:
                names = f"{_surname(people[0])} and {_surname(people[1])}"
            else:
                names = f"{_surname(people[0])} et al."
            labels.append(f"{names}, {year}")
        counts = {lab: labels.count(lab) for lab in labels}
        seen: dict[str, int] = {}
        for lab in labels:
            if counts[lab] > 1:
                seen[lab] = seen.get(lab, 0) + 1
                yield f"{lab}{chr(ord('a') + seen[lab] - 1)}"
            else:
                yield lab


class AuthorYearStyle(_Unsrt):
    default_sorting_style = "author_year_title"
    default_label_style = AuthorYearLabels


def _scripts_once_and_no_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        filename = getattr(js, "filename", None) or str(js)
        body = (getattr(js, "attributes", None) or {}).get("body", "")
        if "thebe" in filename.lower() or "THEBE" in body or "thebe" in body:
            continue
        key = (filename, body)
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    scripts[:] = kept


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    app.connect("html-page-context", _scripts_once_and_no_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
