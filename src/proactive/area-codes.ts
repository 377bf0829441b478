// US area code (NPA) → IANA time zone. Written from the NANPA assignments by state and checked against Google
// libphonenumber's resources/timezones/map_data.txt (sms-facts §3). An area code is where a number was issued,
// not where its owner is: numbers port and travel, so a profile time zone always wins over this table.

const ZONES: { [zone: string]: string } = {
  'America/New_York':
    // CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC TN VT VA WV (Eastern parts)
    '203 475 860 959 302 202 771 239 305 321 324 352 386 407 561 645 656 689 727 754 772 786 813 863 904 941 954 ' +
    '229 404 470 478 678 706 762 770 912 943 260 317 463 574 765 502 859 207 227 240 301 410 443 667 ' +
    '339 351 413 508 617 774 781 857 978 231 248 269 313 517 586 616 679 734 810 947 989 603 ' +
    '201 551 609 640 732 848 856 862 908 973 212 315 329 332 347 363 516 518 585 607 624 631 646 680 716 718 ' +
    '838 845 914 917 929 934 252 336 472 704 743 828 910 919 980 984 216 220 234 283 326 330 380 419 436 440 ' +
    '513 567 614 740 937 215 223 267 272 412 445 484 570 582 610 717 724 814 835 878 401 803 821 839 843 854 ' +
    '864 865 802 276 434 540 571 686 703 757 804 826 948 304 681',
  'America/Chicago':
    // AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI (Central parts)
    '205 251 256 334 483 659 938 327 479 501 870 217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 ' +
    '861 872 319 515 563 641 712 316 913 225 318 337 504 985 218 320 507 612 651 763 952 228 601 662 769 ' +
    '314 417 557 573 636 660 816 975 402 531 405 539 572 580 918 615 629 731 901 210 214 254 281 325 346 361 ' +
    '409 430 432 469 512 682 713 726 737 806 817 830 832 903 936 940 945 956 972 979 262 274 414 534 608 715 920',
  'America/Denver': '303 719 720 970 983 406 505 575 385 435 801 307 915',
  'America/Phoenix': '480 520 602 623',
  'America/Los_Angeles':
    '209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 ' +
    '738 747 760 805 818 820 831 840 858 909 916 925 949 951 702 725 775 503 971 206 253 360 425 509 564',
  'Pacific/Honolulu': '808',
  'America/Puerto_Rico': '787 939',
  'America/St_Thomas': '340',
  'Pacific/Guam': '671',
  'Pacific/Saipan': '670',
  'Pacific/Pago_Pago': '684',
};

/**
 * Area codes whose exchanges lie in more than one zone (libphonenumber needs NPA-NXX for them). For these the
 * quiet-hours check uses every listed zone: a send is allowed only when it is allowed in all of them.
 */
const SPLIT: { [npa: string]: string[] } = {
  '208': ['America/Boise', 'America/Los_Angeles'],
  '986': ['America/Boise', 'America/Los_Angeles'],
  '219': ['America/Chicago', 'America/New_York'],
  '270': ['America/Chicago', 'America/New_York'],
  '364': ['America/Chicago', 'America/New_York'],
  '606': ['America/New_York', 'America/Chicago'],
  '308': ['America/Chicago', 'America/Denver'],
  '423': ['America/New_York', 'America/Chicago'],
  '458': ['America/Los_Angeles', 'America/Boise'],
  '541': ['America/Los_Angeles', 'America/Boise'],
  '605': ['America/Chicago', 'America/Denver'],
  '620': ['America/Chicago', 'America/Denver'],
  '785': ['America/Chicago', 'America/Denver'],
  '701': ['America/Chicago', 'America/Denver'],
  '812': ['America/New_York', 'America/Chicago'],
  '930': ['America/New_York', 'America/Chicago'],
  '850': ['America/Chicago', 'America/New_York'],
  '448': ['America/Chicago', 'America/New_York'],
  '906': ['America/New_York', 'America/Chicago'],
  '931': ['America/Chicago', 'America/New_York'],
  // Arizona stays on MST, but the Navajo Nation (in 928) observes DST.
  '928': ['America/Phoenix', 'America/Denver'],
  // Alaska: the western Aleutians are an hour behind Anchorage.
  '907': ['America/Anchorage', 'America/Adak'],
};

const BY_NPA = new Map<string, string[]>();
for (const [zone, codes] of Object.entries(ZONES))
  for (const npa of codes.split(' ').filter(Boolean)) BY_NPA.set(npa, [zone]);
for (const [npa, zones] of Object.entries(SPLIT)) BY_NPA.set(npa, zones);

/** US states by area code where a state's own telemarketing hours apply (Oklahoma OTSA, Florida FTSA). */
const STATE_BY_NPA = new Map<string, string>(
  Object.entries({
    OK: '405 539 572 580 918',
    FL: '239 305 321 324 352 386 407 448 561 645 656 689 727 754 772 786 813 850 863 904 941 954',
    MD: '227 240 301 410 443 667',
  }).flatMap(([state, codes]) => codes.split(' ').map((npa) => [npa, state] as [string, string])),
);

/** Every area code in the table (for tests and docs). */
export const knownAreaCodes: readonly string[] = [...BY_NPA.keys()].sort();

/** The NANP area code of an E.164 `+1` number, or null for other countries. */
export function areaCodeOf(phone: string): string | null {
  const m = /^\+1([2-9]\d\d)[2-9]\d{6}$/.exec(phone);
  return m ? m[1]! : null;
}

/**
 * The IANA zones a US number's area code may be in: one zone for most, several for split area codes, an empty
 * list for unknown codes and non-US numbers (callers then fall back to the business zone; see
 * docs/proactive-messaging.md).
 *
 * @example
 * zonesForNumber('+14155550100') // ['America/Los_Angeles']
 * zonesForNumber('+12085550100') // ['America/Boise', 'America/Los_Angeles']
 */
export function zonesForNumber(phone: string): string[] {
  const npa = areaCodeOf(phone);
  return npa ? [...(BY_NPA.get(npa) ?? [])] : [];
}

/**
 * The US state whose stricter telemarketing rules a number is presumed under (OTSA: an Oklahoma area code is
 * presumed a resident), for the states the table knows (`OK`, `FL`, `MD`); null otherwise.
 *
 * @example
 * stateForNumber('+14055550100') // 'OK'
 */
export function stateForNumber(phone: string): string | null {
  const npa = areaCodeOf(phone);
  return npa ? (STATE_BY_NPA.get(npa) ?? null) : null;
}
