"""ORM002 examples, Django REST framework: a list view serializes each row of its queryset, so what
a serializer reads on the row (a field's `source`, a nested serializer, a `SerializerMethodField`
method, `to_representation`) runs once per row unless the view's queryset loads it.
A line marked `# expect:` must be reported with that code on that exact expression; no other line
may be. This file is analysed, never imported."""
from django.db import models
from drf_writable_nested import WritableNestedModelSerializer
from rest_framework import generics, serializers, viewsets


class Publisher(models.Model):
    name = models.CharField(max_length=80)


class Label(models.Model):
    name = models.CharField(max_length=80)


class Album(models.Model):
    title = models.CharField(max_length=80)
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE)
    labels = models.ManyToManyField(Label)

    @property
    def publisher_name(self):
        return self.publisher.name


class Track(models.Model):
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="tracks")
    number = models.IntegerField()


class PressingManager(models.Manager):
    def with_album(self):
        return self.select_related("album")


class Pressing(models.Model):
    album = models.ForeignKey(Album, on_delete=models.CASCADE)
    objects = PressingManager()

    @classmethod
    def listed_for(cls, user):
        return cls.objects.select_related("album").filter(album__title=user)

    @classmethod
    def titled(cls, title):
        return cls.objects.filter(album__title=title)  # loads nothing


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["name"]


# --- must be reported: AlbumList lists Album.objects.all(), which loads nothing ------------------


class AlbumSerializer(serializers.ModelSerializer):
    publisher_title = serializers.CharField(source="publisher.name")  # expect: ORM002 "source=\"publisher.name\""
    labels = LabelSerializer(many=True)  # expect: ORM002 "LabelSerializer(many=True)"
    tracks = serializers.SerializerMethodField()
    numbers = serializers.SerializerMethodField()
    first_numbers = serializers.SerializerMethodField()

    class Meta:
        model = Album
        fields = ["title", "publisher_title", "labels", "tracks", "numbers", "first_numbers"]

    def get_tracks(self, album):
        return Track.objects.filter(album=album).count()  # expect: ORM001 "Track.objects.filter(album=album).count()"

    def get_numbers(self, album):
        # Returned unrun, the queryset runs where DRF renders the field: once per album.
        return Track.objects.filter(album=album).values_list("number", flat=True)  # expect: ORM001 "Track.objects.filter(album=album).values_list(\"number\", flat=True)"

    def get_first_numbers(self, album):
        return [1, 2]  # a plain value: nothing runs


class AlbumList(generics.ListAPIView):
    queryset = Album.objects.all()
    serializer_class = AlbumSerializer


class TrackSerializer(serializers.ModelSerializer):
    album_title = serializers.SerializerMethodField()
    # Only the last step is the key's shortcut: each row's album is loaded to read its publisher_id.
    publisher = serializers.PrimaryKeyRelatedField(source="album.publisher", read_only=True)  # expect: ORM002 "source=\"album.publisher\""

    class Meta:
        model = Track
        fields = ["number", "album_title", "publisher"]

    def get_album_title(self, track):
        return track.album.title  # expect: ORM002 "track.album"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["album"] = instance.album.title  # expect: ORM002 "instance.album"
        return data


class TrackViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TrackSerializer

    def get_queryset(self):
        return Track.objects.filter(number__gt=0)


class BaseTrackSerializer(serializers.ModelSerializer):
    publisher = serializers.SerializerMethodField("publisher_of")  # the method named positionally

    class Meta:
        model = Track
        fields = ["publisher"]

    def publisher_of(self, track):
        return track.album.title  # expect: ORM002 "track.album"


class ListedTrackSerializer(BaseTrackSerializer):  # lists them: the base's methods run per row
    pass


class ListedTracks(generics.ListAPIView):
    queryset = Track.objects.filter(number__gt=0)
    serializer_class = ListedTrackSerializer


class NestedAlbumSerializer(WritableNestedModelSerializer):  # a library's serializer base
    publisher_title = serializers.CharField(source="publisher.name")  # expect: ORM002 "source=\"publisher.name\""

    class Meta:
        model = Album
        fields = ["title", "publisher_title"]


class AlbumOverviewSerializer(serializers.ModelSerializer):
    labels = LabelSerializer(many=True)  # expect: ORM002 "LabelSerializer(many=True)"

    class Meta:
        model = Album
        fields = ["title", "labels"]


class AlbumFullSerializer(serializers.ModelSerializer):  # retrieve only: one row
    publisher_title = serializers.CharField(source="publisher.name")

    class Meta:
        model = Album
        fields = ["title", "publisher_title"]


class AlbumViewSet(viewsets.ModelViewSet):
    queryset = Album.objects.all()
    serializer_class = AlbumFullSerializer

    def get_serializer_class(self):
        if self.action == "list":
            return AlbumOverviewSerializer
        return self.serializer_class


class LabelsViewSet(viewsets.ModelViewSet):
    queryset = Album.objects.all()
    serializer_class = AlbumOverviewSerializer  # what it lists (the override is for one action)

    def get_serializer_class(self):
        if self.action == "bulk_rename" and self.request.method == "POST":
            return DetailOnlySerializer
        return super().get_serializer_class()


class NestedAlbumList(generics.ListAPIView):
    queryset = Album.objects.all()
    serializer_class = NestedAlbumSerializer


class PressingTitleSerializer(serializers.ModelSerializer):
    album_title = serializers.CharField(source="album.title")  # expect: ORM002 "source=\"album.title\""

    class Meta:
        model = Pressing
        fields = ["album_title"]


class PressingsOfAClassmethodLoadingNothing(generics.ListAPIView):  # what the classmethod loads: nothing
    serializer_class = PressingTitleSerializer

    def get_queryset(self):
        return Pressing.titled(self.request.GET["title"])


# --- must not be reported ------------------------------------------------------------------------


class AlbumTrackSerializer(serializers.ModelSerializer):
    album_title = serializers.CharField(source="album.title")

    class Meta:
        model = Track
        fields = ["number", "album_title"]


class AlbumTrackList(generics.ListAPIView):
    serializer_class = AlbumTrackSerializer

    def get_queryset(self):
        # A related manager's rows: Django sets each track's album to this album.
        return self.request.album.tracks.order_by("number")



class LoadedAlbumSerializer(serializers.ModelSerializer):
    publisher_title = serializers.CharField(source="publisher.name")
    labels = LabelSerializer(many=True)
    publisher_id = serializers.PrimaryKeyRelatedField(source="publisher", read_only=True)

    class Meta:
        model = Album
        fields = ["title", "publisher_title", "labels", "publisher_id"]


class LoadedAlbumList(generics.ListAPIView):
    serializer_class = LoadedAlbumSerializer

    def get_queryset(self):
        return Album.objects.select_related("publisher").prefetch_related("labels")


class DetailOnlySerializer(serializers.ModelSerializer):
    publisher_title = serializers.CharField(source="publisher.name")

    class Meta:
        model = Album
        fields = ["publisher_title"]


class AlbumDetail(generics.RetrieveAPIView):  # one row per request
    queryset = Album.objects.all()
    serializer_class = DetailOnlySerializer


class UnusedSerializer(serializers.ModelSerializer):  # no view lists it
    publisher_title = serializers.CharField(source="publisher.name")

    class Meta:
        model = Album
        fields = ["publisher_title"]


class TrackAlbumSerializer(serializers.ModelSerializer):
    publisher_title = serializers.CharField(source="album.publisher.name")

    class Meta:
        model = Track
        fields = ["number", "publisher_title"]


RELATED = ["album", "album__publisher"]


def tracks_with_albums():
    return Track.objects.select_related(*RELATED)


class TracksLoadedByAHelper(generics.ListAPIView):
    serializer_class = TrackAlbumSerializer

    def get_queryset(self):
        return tracks_with_albums().filter(number__gt=0)  # the helper loads what the serializer reads


class AlbumWithTracksSerializer(serializers.ModelSerializer):
    tracks = TrackAlbumSerializer(many=True)

    class Meta:
        model = Album
        fields = ["title", "tracks"]


class AlbumsWithLoadedTracks(generics.ListAPIView):
    serializer_class = AlbumWithTracksSerializer

    def get_queryset(self):
        related = ["album", "album__publisher"]
        tracks = Track.objects.select_related(*related)
        return Album.objects.prefetch_related(models.Prefetch("tracks", queryset=tracks))


class AlbumCloneViewSet(viewsets.ModelViewSet):  # only POST: never lists rows
    queryset = Album.objects.none()
    serializer_class = DetailOnlySerializer
    http_method_names = ["post"]


class PressingSerializer(serializers.ModelSerializer):
    album_title = serializers.CharField(source="album.title")

    class Meta:
        model = Pressing
        fields = ["album_title"]


class PressingsOfAClassmethod(generics.ListAPIView):  # the model's classmethod loads the album
    serializer_class = PressingSerializer

    def get_queryset(self):
        return Pressing.listed_for(self.request.user).order_by("id")


class PressingsOfAManagerMethod(generics.ListAPIView):  # the manager's method loads it
    serializer_class = PressingSerializer
    queryset = Pressing.objects.with_album()


class PressingSearch:
    def __init__(self, request):
        self.request = request

    def apply(self, queryset):
        return self.loaded(queryset).filter(album__title=self.request.GET["q"])

    def loaded(self, queryset):
        return queryset.select_related("album")


class PressingsOfASearchObject(generics.ListAPIView):  # a project object's method loads it (through another)
    serializer_class = PressingSerializer

    def get_queryset(self):
        search = PressingSearch(self.request)
        return search.apply(Pressing.objects.all())


# Rows of a reverse foreign key's manager have their parent set: a nested serializer over
# `album.tracks` reads `track.album` without a query (but not what the album has not loaded).
class TrackOfAlbumSerializer(serializers.ModelSerializer):
    album_title = serializers.CharField(source="album.title")
    album_publisher = serializers.CharField(source="album.publisher.name")  # expect: ORM002 "source=\"album.publisher.name\""

    class Meta:
        model = Track
        fields = ["id", "album_title", "album_publisher"]


class AlbumWithItsTracksSerializer(serializers.ModelSerializer):
    tracks = TrackOfAlbumSerializer(many=True)

    class Meta:
        model = Album
        fields = ["id", "tracks"]


class AlbumsWithTracks(generics.ListAPIView):
    queryset = Album.objects.prefetch_related("tracks")
    serializer_class = AlbumWithItsTracksSerializer
