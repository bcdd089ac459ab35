"""What every django-tables2 table shares."""

# The project's table markup (templates/tables/table.html): sortable headers that swap with htmx.
TABLE_TEMPLATE = "tables/table.html"
