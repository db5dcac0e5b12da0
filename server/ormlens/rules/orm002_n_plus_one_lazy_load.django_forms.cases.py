"""ORM002 examples, Django forms: a model choice field rendered with a widget that lists its choices
labels each row of its queryset (`str(row)`, or the field class's own `label_from_instance`), so
what that reads on the row runs once per choice unless the queryset loads it.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from django import forms
from django.db import models


class Kitchen(models.Model):
    name = models.CharField(max_length=80)


class Measure(models.Model):
    name = models.CharField(max_length=20)


class Recipe(models.Model):
    title = models.CharField(max_length=80)
    kitchen = models.ForeignKey(Kitchen, on_delete=models.CASCADE)

    def __str__(self):
        return f"{self.title} ({self.kitchen.name})"


class Portion(models.Model):
    grams = models.IntegerField()
    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE)
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE)

    def __unicode__(self):  # (Python 2 era code: what str() showed)
        return u"{0} {1}".format(self.grams, self.measure.name)


class Shelf(models.Model):
    label = models.CharField(max_length=20)
    kitchen = models.ForeignKey(Kitchen, on_delete=models.CASCADE)

    def __str__(self):
        return self.label


class RecipeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.kitchen.name  # expect: ORM002 "obj.kitchen"


class ShelfChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.kitchen.name  # (its only form loads `kitchen`)


class TitleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.title  # (instead of __str__: a column only)


# --- must be reported ----------------------------------------------------------------------------


class RecipePickerForm(forms.Form):
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.filter(title__startswith="a"))  # expect: ORM002 "Recipe.objects.filter(title__startswith=\"a\")"


class PortionChooserForm(forms.Form):
    amount = forms.DecimalField(decimal_places=2, max_digits=5)
    portion = forms.ModelChoiceField(queryset=Portion.objects.none(), required=False)

    def __init__(self, *args, recipe_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portion"].queryset = Portion.objects.filter(  # expect: ORM002 "Portion.objects.filter"
            recipe_id=recipe_id)


class MenuForm(forms.Form):
    recipes = forms.ModelMultipleChoiceField(queryset=Recipe.objects.all(),  # expect: ORM002 "Recipe.objects.all()"
                                             widget=forms.CheckboxSelectMultiple)
    favourite = RecipeChoiceField(queryset=Recipe.objects.order_by("title"))
    starter = forms.ModelChoiceField(Recipe.objects.exclude(title=""), required=False)  # expect: ORM002 "Recipe.objects.exclude(title=\"\")"
    choice = forms.ModelChoiceField(queryset=Portion.objects.all(), widget=forms.RadioSelect())  # expect: ORM002 "Portion.objects.all()"


# --- must not be reported ------------------------------------------------------------------------


class LoadedRecipeForm(forms.Form):
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.select_related("kitchen"))


class HiddenRecipeForm(forms.Form):
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.all(), widget=forms.HiddenInput)


class HiddenLaterForm(forms.Form):
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.all())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipe"].widget = forms.HiddenInput()


class ShelfForm(forms.Form):
    shelf = forms.ModelChoiceField(queryset=Shelf.objects.all())  # (its __str__ reads a column only)


class NoPortionForm(forms.Form):
    portion = forms.ModelChoiceField(queryset=Portion.objects.none())


class LoadedPortionForm(forms.Form):
    portion = forms.ModelChoiceField(queryset=Portion.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        portions = Portion.objects.select_related("measure").filter(grams__gt=0)
        self.fields["portion"].queryset = portions


class ShelfPickerForm(forms.Form):
    shelf = ShelfChoiceField(queryset=Shelf.objects.select_related("kitchen"))
    recipe = TitleChoiceField(queryset=Recipe.objects.all())


class TypedRecipeForm(forms.Form):
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.all(), widget=forms.TextInput)
