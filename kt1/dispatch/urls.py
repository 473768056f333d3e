from .urls_bags import urlpatterns as bag_patterns
from .urls_trips import urlpatterns as trip_patterns

app_name = "dispatch"

urlpatterns = [*bag_patterns, *trip_patterns]
