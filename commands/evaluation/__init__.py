"""The annual evaluation of a committee: the survey (`!auswertung starten`) and its report."""
