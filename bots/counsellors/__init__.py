"""What every concern knows of a counsellor's shift: how many chats they have and may have,
whether they are on a break, and who may take a case now (``availability``, pure rules), read
from the stores by ``Roster``. The queue asks it before a claim and for its reminders, the shift
concern changes it (``!pause``, ``!capacity``) and shows it."""
