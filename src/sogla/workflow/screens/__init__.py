"""What the web screens of approvals show, read and put into words; one module per
screen or part. Everything here reads; commands stay in ``sogla.workflow.services``,
and every function is scoped to the user's organisation.

- ``inbox``: an inbox tab grouped by urgency;
- ``traffic_light``: the registry's light per document;
- ``history``: the card's History tab in plain language;
- ``start``: the card's start section (routes that fit, who would approve);
- ``card``: the card's approval parts, gathered from ``route_map`` (the holder line
  and the route map's words) and ``panels`` (my decision panels);
- ``durations``: waiting and lateness in the organisation's working days.
"""
