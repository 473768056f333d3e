"""Mail-trip volume report (DOMAIN §9: "mail-trip volumes by shift / day / month, outgoing and
incoming"): one table built from selectors.trip_volumes, shown on screen and written as XLSX, so
both always carry the same figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from io import BytesIO

from django.utils.translation import gettext as _

from kt1.directory.models import Facility

from . import selectors


@dataclass
class Figures:
    trips: int = 0
    bags: int = 0
    items: int = 0
    weight_g: int = 0

    def add(self, other: Figures | selectors.VolumeRow) -> None:
        self.trips += other.trips
        self.bags += other.bags
        self.items += other.items
        self.weight_g += other.weight_g

    @property
    def weight_kg(self) -> float:
        return self.weight_g / 1000


@dataclass
class VolumeLine:
    period: str  # "2025-06-01" (shift, day) or "2025-06" (month)
    shift: str
    outgoing: Figures = field(default_factory=Figures)
    incoming: Figures = field(default_factory=Figures)

    @property
    def period_date(self) -> dt.date:
        return dt.date.fromisoformat(self.period if len(self.period) == 10 else f"{self.period}-01")


@dataclass
class VolumeTable:
    facility: Facility
    date_from: dt.date
    date_to: dt.date
    group: str  # shift | day | month
    lines: list[VolumeLine]
    total_out: Figures
    total_in: Figures

    @property
    def by_shift(self) -> bool:
        return self.group == "shift"


def volume_table(*, viewer, facility: Facility, date_from: dt.date, date_to: dt.date, group: str) -> VolumeTable:
    """Outgoing and incoming figures side by side, one line per period (and shift)."""
    lines: dict[tuple[str, str], VolumeLine] = {}
    total_out, total_in = Figures(), Figures()
    for row in selectors.trip_volumes(viewer=viewer, facility=facility, date_from=date_from, date_to=date_to,
                                      group=group):
        line = lines.setdefault((row.period, row.shift), VolumeLine(row.period, row.shift))
        if row.direction == "out":
            line.outgoing.add(row)
            total_out.add(row)
        else:
            line.incoming.add(row)
            total_in.add(row)
    return VolumeTable(facility, date_from, date_to, group, [lines[k] for k in sorted(lines)], total_out, total_in)


def group_label(group: str) -> str:
    return {"shift": _("ca"), "day": _("ngày"), "month": _("tháng")}[group]


def xlsx_filename(table: VolumeTable) -> str:
    return f"KT1-san-luong-{table.facility.postcode}-{table.date_from:%Y%m%d}-{table.date_to:%Y%m%d}.xlsx"


COUNT_FORMAT = "#,##0"
KG_FORMAT = "#,##0.000"


def volume_xlsx(table: VolumeTable) -> bytes:
    """The table as a workbook: title, filters line, header, one row per line, totals; numbers as
    numbers (counts and kilograms with their formats), dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = _("Sản lượng")[:31]
    wb.properties.title = _("Sản lượng chuyến thư KT1")
    wb.properties.creator = "KT1"

    figure_headers = [_("Số chuyến"), _("Số túi"), _("Số bưu gửi"), _("Khối lượng (kg)")]
    headers = [_("Tháng") if table.group == "month" else _("Ngày")]
    if table.by_shift:
        headers.append(_("Ca"))
    first_figure = len(headers) + 1
    headers += [f"{_('Đi')}: {h}" for h in figure_headers] + [f"{_('Đến')}: {h}" for h in figure_headers]
    width = len(headers)

    ws.cell(row=1, column=1, value=_("SẢN LƯỢNG CHUYẾN THƯ KT1 — %(f)s") % {"f": f"{table.facility.postcode} "
                                                                              f"{table.facility.name}"})
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(row=2, column=1, value=_("Từ ngày %(a)s đến ngày %(b)s · nhóm theo %(g)s · chiều đi và chiều đến") % {
        "a": f"{table.date_from:%d/%m/%Y}", "b": f"{table.date_to:%d/%m/%Y}", "g": group_label(table.group)})
    ws.cell(row=2, column=1).font = Font(italic=True)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)

    header_row = 4
    thin = Side(style="thin", color="999999")
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=header_row, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF1F4")
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(bottom=thin, top=thin)

    def put_figures(row: int, out: Figures, inn: Figures, bold: bool = False) -> None:
        values = [out.trips, out.bags, out.items, out.weight_kg, inn.trips, inn.bags, inn.items, inn.weight_kg]
        for offset, value in enumerate(values):
            cell = ws.cell(row=row, column=first_figure + offset, value=value)
            cell.number_format = KG_FORMAT if offset % 4 == 3 else COUNT_FORMAT
            if bold:
                cell.font = Font(bold=True)

    row = header_row + 1
    for line in table.lines:
        cell = ws.cell(row=row, column=1, value=line.period_date)
        cell.number_format = "mm/yyyy" if table.group == "month" else "dd/mm/yyyy"
        cell.alignment = Alignment(horizontal="left")
        if table.by_shift:
            ws.cell(row=row, column=2, value=line.shift)
        put_figures(row, line.outgoing, line.incoming)
        row += 1
    ws.cell(row=row, column=1, value=_("Tổng cộng")).font = Font(bold=True)
    put_figures(row, table.total_out, table.total_in, bold=True)
    for col in range(1, width + 1):
        ws.cell(row=row, column=col).border = Border(top=thin)

    ws.column_dimensions["A"].width = 14
    if table.by_shift:
        ws.column_dimensions["B"].width = 14
    for col in range(first_figure, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 15
    ws.row_dimensions[header_row].height = 32
    ws.freeze_panes = ws.cell(row=header_row + 1, column=first_figure)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1

    out = BytesIO()
    wb.save(out)
    return out.getvalue()
