"""German texts for the import problems of ``tabular`` (by message code).

The package returns every problem with its code and parameters besides the
English text; the import page shows this German text in the German UI and
falls back to the English message for a code it does not know.
"""
from __future__ import annotations

from tabular import MESSAGES, Problem, format_message

MESSAGES_DE: dict[str, str] = {
    "location.row_column": "Zeile {row}, Spalte {column}: {message}",
    "location.row": "Zeile {row}: {message}",
    "location.column": "Spalte {column}: {message}",
    "file.empty": "Die Datei ist leer.",
    "file.too_large": "Die Datei hat {size_mb} MB; erlaubt sind {limit_mb} MB.",
    "file.unknown_type": "Dateien vom Typ '{extension}' können nicht gelesen werden; speichern Sie die Tabelle "
                         "als .csv oder .xlsx.",
    "file.legacy_xls": "Das ist eine alte Excel-Datei (.xls); speichern Sie sie als .xlsx oder .csv und laden Sie "
                       "sie erneut hoch.",
    "file.binary": "Die Datei enthält keine Texttabelle (sondern Binärdaten); speichern Sie die Tabelle als .csv "
                   "oder .xlsx.",
    "file.xlsx_named_csv": "Die Datei ist eine Excel-Arbeitsmappe mit der Endung .csv; benennen Sie sie in .xlsx um "
                           "oder speichern Sie sie als CSV.",
    "file.not_decodable": "Die Zeichenkodierung der Datei ist nicht lesbar; speichern Sie sie als CSV UTF-8.",
    "file.malformed_csv": "Die CSV-Datei kann nicht gelesen werden: {detail}.",
    "xlsx.invalid": "Die Datei ist keine gültige Excel-Arbeitsmappe (.xlsx).",
    "xlsx.too_many_members": "Die Arbeitsmappe hat {count} Teile, mehr als die Grenze von {limit}; sie wird "
                             "abgelehnt.",
    "xlsx.too_large": "Die Arbeitsmappe entpackt sich auf {size_mb} MB, mehr als die Grenze von {limit_mb} MB.",
    "xlsx.ratio": "Die Arbeitsmappe ist verdächtig stark komprimiert ({ratio}:1, Grenze {limit}:1) und wird als "
                  "mögliche Zip-Bombe abgelehnt.",
    "xlsx.doctype": "Die Arbeitsmappe enthält eine XML-Dokumenttyp-Deklaration, die Excel nie schreibt; sie wird "
                    "als möglicher Angriff (XML-Entity-Expansion) abgelehnt.",
    "xlsx.sheet_not_found": "Die Arbeitsmappe hat kein Blatt '{sheet}' (Blätter: {sheets}).",
    "xlsx.no_sheet": "Die Arbeitsmappe hat kein Tabellenblatt.",
    "table.no_header": "Die erste Zeile enthält keine Spaltennamen.",
    "table.header_is_data": "Die erste Zeile sieht nach Daten aus, nicht nach Spaltennamen; fügen Sie eine "
                            "Kopfzeile hinzu.",
    "table.no_rows": "Die Datei hat Spaltennamen, aber keine Datenzeilen.",
    "table.too_many_rows": "Die Datei hat mehr als {limit} Datenzeilen.",
    "table.too_many_values": "Zeile {row} hat {count} Werte, die Kopfzeile aber {columns} Spalten; prüfen Sie das "
                             "Trennzeichen oder setzen Sie Werte, die es enthalten, in Anführungszeichen.",
    "column.missing": "Die Pflichtspalte '{name}' fehlt (erlaubte Namen: {aliases}).",
    "column.ambiguous": "Die Spalten {headers} stehen alle für '{name}'; die erste wird verwendet.",
    "column.unused": "Die Spalte '{header}' wird nicht verwendet.",
    "value.missing": "Wert fehlt",
    "value.not_number": "'{value}' ist keine Zahl",
    "value.mixed_number_format": "'{value}' ist anders geschrieben als die übrigen Zahlen dieser Spalte "
                                 "(Dezimalkomma oder Dezimalpunkt)",
    "value.not_integer": "'{value}' ist keine ganze Zahl",
    "value.not_date": "'{value}' ist kein Datum (schreiben Sie TT.MM.JJJJ oder JJJJ-MM-TT)",
    "value.ambiguous_date": "'{value}' ist mehrdeutig (Tag oder Monat zuerst?); schreiben Sie TT.MM.JJJJ oder "
                            "JJJJ-MM-TT",
    "value.two_digit_year": "'{value}' hat eine zweistellige Jahreszahl; schreiben Sie das Jahr vierstellig",
    "value.not_boolean": "'{value}' ist nicht ja/nein (yes/no, 1/0, x)",
    "value.not_period": "'{value}' ist keine Periode (schreiben Sie 2024-03, 2024-Q1 oder ein Datum)",
    "customer_values.missing_id": "die Kundennummer fehlt",
    "customer_values.duplicate": "Kunde {customer_id} kommt für die Periode {period} doppelt vor (Zeilen "
                                 "{first_row} und {second_row})",
    "customer_values.negative_revenue": "Umsatz {value} ist negativ; negativer Umsatz ist nicht erlaubt",
    "customer_values.rating_range": "Bewertung {value} liegt nicht zwischen 1 und 5",
    "customer_values.conflicting_master": "Kunde {customer_id} hat verschiedene Werte für {field}: {values}; der "
                                          "Wert aus Zeile {first_row} wird verwendet",
    "customer_values.mixed_periods": "Monate und Quartale sind gemischt (Monate: {months}, Quartale: {quarters} "
                                     "Zeilen); die Zeilen der selteneren Art bleiben außen vor, verwenden Sie eine "
                                     "Art von Periode je Datei",
    "customer_values.duplicate_period_column": "Die Spalten {headers} stehen für dieselbe Periode {period}; nur "
                                               "die erste wird verwendet.",
    "customer_values.no_values": "Es wurden keine Periodenspalten gefunden (z. B. 2024-01, 2024-Q1).",
    "customer_values.formula_name": "'{value}' sieht aus wie eine Tabellenformel; geben Sie den Namen als "
                                    "einfachen Text ein",
    "problems.truncated": "{count} weitere Probleme werden nicht aufgeführt.",
}


def problem_text(problem: Problem, lang: str) -> str:
    """The problem's message in the UI language (German by code, else the package's English)."""
    if lang != "de" or problem.code not in MESSAGES_DE:
        return problem.message
    try:
        text = MESSAGES_DE[problem.code].format(**problem.params)
        if problem.row is not None and problem.column is not None and problem.code != "table.too_many_values":
            return MESSAGES_DE["location.row_column"].format(row=problem.row, column=problem.column, message=text)
        if problem.row is not None and problem.code != "table.too_many_values":
            return MESSAGES_DE["location.row"].format(row=problem.row, message=text)
        if problem.column is not None:
            return MESSAGES_DE["location.column"].format(column=problem.column, message=text)
        return text
    except (KeyError, IndexError, ValueError):
        return problem.message


def reason_text(problem: Problem, lang: str) -> str:
    """The reason alone, for a table that shows the problem's row and column beside it."""
    if problem.code == "table.too_many_values":  # its text is about the row itself
        return problem_text(problem, lang)
    try:
        if lang == "de" and problem.code in MESSAGES_DE:
            return MESSAGES_DE[problem.code].format(**problem.params)
        if problem.code in MESSAGES:
            return format_message(problem.code, **problem.params)
    except (KeyError, IndexError, ValueError):
        pass
    # an English text composed elsewhere: drop the place it starts with, as make_problem writes it
    if problem.row is not None and problem.column is not None:
        place = format_message("location.row_column", row=problem.row, column=problem.column, message="")
    elif problem.row is not None:
        place = format_message("location.row", row=problem.row, message="")
    elif problem.column is not None:
        place = format_message("location.column", column=problem.column, message="")
    else:
        place = ""
    message = problem_text(problem, lang)
    return message[len(place):] if place and message.startswith(place) else message
