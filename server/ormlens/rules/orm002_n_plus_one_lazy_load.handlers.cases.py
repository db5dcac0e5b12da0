"""ORM002 examples: reads in an `except` handler run when something failed, not once per row (as
ORM001's queries there). A line marked `# expect:` must be reported with that code on that exact
expression; no other line may be. This file is analysed, never imported."""
from django.db import models


class Mailbox(models.Model):
    address = models.CharField(max_length=120)


class Letter(models.Model):
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE)
    subject = models.CharField(max_length=120)

    def mark_failed(self, reason):
        return f"{self.mailbox.address}: {reason}"


def deliver(letter):
    raise OSError(letter.subject)


# --- must be reported -------------------------------------------------------------------------


def read_in_the_try_body():
    for letter in Letter.objects.all():
        try:
            deliver(letter)
            print(letter.mailbox.address)  # expect: ORM002 "letter.mailbox"
        except OSError:
            pass


def loop_after_the_handler(letters_ids):
    try:
        deliver(None)
    except OSError:
        pass
    for letter in Letter.objects.filter(id__in=letters_ids):
        print(letter.mailbox.address)  # expect: ORM002 "letter.mailbox"


# --- must not be reported ---------------------------------------------------------------------


def failure_path_over_the_rows():
    letters = Letter.objects.filter(subject__startswith="invoice")
    try:
        for letter in letters:
            deliver(letter)
    except OSError as error:
        for letter in letters:
            print(letter.mailbox.address, error)
            print(letter.mark_failed(error))


def per_row_handler():
    for letter in Letter.objects.all():
        try:
            deliver(letter)
        except OSError as error:
            print(letter.mailbox.address, error)
