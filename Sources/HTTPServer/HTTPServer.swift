import Feed
import Hummingbird
