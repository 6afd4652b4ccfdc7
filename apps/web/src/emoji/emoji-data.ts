/**
 * A curated set: the emoji people react and write with most, named as Unicode names them so
 * that a screen reader says the same word a search finds. Kept here rather than taken from a
 * library: the full Unicode list with its search index weighs more than the rest of the app's
 * own code, and a chat team's everyday set is a few dozen.
 */
export interface Emoji {
  char: string;
  name: string;
  /** Other words a person might search for. */
  keywords: string;
}

const e = (char: string, name: string, keywords = ""): Emoji => ({ char, name, keywords });

export const EMOJI: readonly Emoji[] = [
  e("👍", "thumbs up", "yes ok agree like +1 approve"),
  e("👎", "thumbs down", "no disagree dislike -1"),
  e("❤️", "red heart", "love like"),
  e("😂", "face with tears of joy", "laugh lol funny"),
  e("🎉", "party popper", "celebrate congrats tada hooray"),
  e("👀", "eyes", "look see watching"),
  e("🙏", "folded hands", "please thanks pray"),
  e("🔥", "fire", "hot lit great"),
  e("✅", "check mark button", "done yes complete ok"),
  e("❌", "cross mark", "no wrong cancel"),
  e("👏", "clapping hands", "applause bravo well done"),
  e("🙌", "raising hands", "hooray celebrate yay"),
  e("💯", "hundred points", "perfect score full"),
  e("🚀", "rocket", "launch ship fast"),
  e("✨", "sparkles", "shiny new magic"),
  e("⭐", "star", "favourite favorite"),
  e("💡", "light bulb", "idea"),
  e("⚠️", "warning", "caution careful"),
  e("❓", "red question mark", "question what"),
  e("❗", "red exclamation mark", "important"),
  e("😀", "grinning face", "smile happy"),
  e("😃", "grinning face with big eyes", "smile happy"),
  e("😄", "grinning face with smiling eyes", "smile happy"),
  e("😁", "beaming face with smiling eyes", "grin"),
  e("😆", "grinning squinting face", "laugh"),
  e("😅", "grinning face with sweat", "relief phew"),
  e("🤣", "rolling on the floor laughing", "rofl lol"),
  e("🙂", "slightly smiling face", "smile"),
  e("🙃", "upside-down face", "silly sarcasm"),
  e("😉", "winking face", "wink"),
  e("😊", "smiling face with smiling eyes", "blush happy"),
  e("😇", "smiling face with halo", "angel innocent"),
  e("🥰", "smiling face with hearts", "love adore"),
  e("😍", "smiling face with heart-eyes", "love"),
  e("😘", "face blowing a kiss", "kiss"),
  e("😋", "face savoring food", "yum tasty"),
  e("😛", "face with tongue", "silly"),
  e("😜", "winking face with tongue", "joke silly"),
  e("🤪", "zany face", "crazy silly"),
  e("🤔", "thinking face", "hmm think consider"),
  e("🤨", "face with raised eyebrow", "skeptical doubt"),
  e("😐", "neutral face", "meh"),
  e("😑", "expressionless face", "blank"),
  e("😶", "face without mouth", "speechless quiet"),
  e("🙄", "face with rolling eyes", "eyeroll whatever"),
  e("😏", "smirking face", "smirk"),
  e("😬", "grimacing face", "awkward yikes"),
  e("😌", "relieved face", "calm relief"),
  e("😔", "pensive face", "sad"),
  e("😴", "sleeping face", "tired sleep zzz"),
  e("🤒", "face with thermometer", "sick ill"),
  e("🤯", "exploding head", "mind blown shocked"),
  e("🥳", "partying face", "celebrate birthday party"),
  e("😎", "smiling face with sunglasses", "cool"),
  e("🤓", "nerd face", "geek"),
  e("😕", "confused face", "unsure"),
  e("😟", "worried face", "concern"),
  e("😮", "face with open mouth", "wow surprise"),
  e("😲", "astonished face", "shocked surprise"),
  e("😳", "flushed face", "embarrassed"),
  e("🥺", "pleading face", "please puppy eyes"),
  e("😢", "crying face", "sad tear"),
  e("😭", "loudly crying face", "sob sad"),
  e("😱", "face screaming in fear", "scared shock"),
  e("😤", "face with steam from nose", "frustrated"),
  e("😡", "enraged face", "angry mad"),
  e("🤗", "smiling face with open hands", "hug"),
  e("🤫", "shushing face", "quiet secret"),
  e("🤝", "handshake", "deal agree"),
  e("👋", "waving hand", "hello hi bye wave"),
  e("👌", "OK hand", "ok perfect"),
  e("✌️", "victory hand", "peace"),
  e("🤞", "crossed fingers", "luck hope"),
  e("💪", "flexed biceps", "strong strength"),
  e("👉", "backhand index pointing right", "point"),
  e("👆", "backhand index pointing up", "point above"),
  e("🫡", "saluting face", "ok sir yes"),
  e("🤷", "person shrugging", "shrug dunno whatever"),
  e("🤦", "person facepalming", "facepalm doh"),
  e("💚", "green heart", "love"),
  e("💙", "blue heart", "love"),
  e("💜", "purple heart", "love"),
  e("🧡", "orange heart", "love"),
  e("💛", "yellow heart", "love"),
  e("💔", "broken heart", "sad"),
  e("💥", "collision", "boom"),
  e("💬", "speech balloon", "comment chat"),
  e("📌", "pushpin", "pin"),
  e("📎", "paperclip", "attach"),
  e("📝", "memo", "note write"),
  e("📅", "calendar", "date schedule"),
  e("⏰", "alarm clock", "time"),
  e("☕", "hot beverage", "coffee tea break"),
  e("🍕", "pizza", "food lunch"),
  e("🍰", "shortcake", "cake birthday"),
  e("🍻", "clinking beer mugs", "cheers drinks"),
  e("🏆", "trophy", "win award"),
  e("🎯", "direct hit", "target goal bullseye"),
  e("🐛", "bug", "issue"),
  e("🔧", "wrench", "fix tool"),
  e("🔒", "locked", "private security"),
  e("📈", "chart increasing", "growth up"),
  e("📉", "chart decreasing", "down"),
  e("☀️", "sun", "weather sunny"),
  e("🌧️", "cloud with rain", "weather rain"),
  e("🌈", "rainbow", "colourful"),
  e("🐶", "dog face", "dog puppy"),
  e("🐱", "cat face", "cat kitten"),
  e("🦄", "unicorn", "magic"),
  e("🌱", "seedling", "grow new"),
];

/** The emoji whose name or keywords contain every word of the query, in list order. */
export function searchEmoji(query: string, from: readonly Emoji[] = EMOJI): Emoji[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...from];
  return from.filter((emoji) => {
    const haystack = `${emoji.name} ${emoji.keywords}`.toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}
