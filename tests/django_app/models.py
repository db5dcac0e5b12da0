from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Tag(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL, related_name="edited_books")
    price = models.IntegerField(null=True)
    tags = models.ManyToManyField(Tag, related_name="books")

    def label(self):
        """Reads the author: once per book when called per row (tests/test_fix_django.py)."""
        return f"{self.title} by {self.author.name}"
