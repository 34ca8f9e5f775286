// English and French (the 2016 community spoke French). The language is the browser's unless
// the user picked one, which is remembered.

const STRINGS = {
  en: {
    title: 'Daisee — energy community',
    nav_home: 'Home', nav_community: 'Community', nav_chain: 'Chain', nav_buy: 'Buy',
    household: 'Household', choose_household: 'Choose a household',
    produced_today: 'Produced today', consumed_today: 'Consumed today',
    surplus: 'Surplus now', deficit: 'Deficit now', balanced: 'Balanced',
    sold: 'Sold (24 h)', bought: 'Bought (24 h)', received: 'received', paid: 'paid',
    total_produced: 'Produced in all', total_consumed: 'Consumed in all',
    last_reading: 'Last reading', battery: 'Sensor battery', not_this_board: 'not a meter of this board',
    ago: 'ago', interval_end: 'interval to',
    last_24h: 'Last 24 h, per interval', production: 'Production', consumption: 'Consumption',
    no_readings: 'No readings yet: the meters report every interval.',
    meters: 'Households', address: 'Household', net: 'Net balance',
    community_chart: 'Community production (stacked per household) and consumption',
    trades: 'Trades', buyer: 'Buyer', seller: 'Seller', energy: 'Energy', price_paid: 'Price paid',
    block: 'Block', time: 'Time', no_trades: 'No trades in the last 24 h.', rate: 'Rate',
    head: 'Head', hash: 'Hash', age: 'Age', block_time: 'Block time', peers: 'Peers',
    pending: 'Pending transactions', signers: 'Signers', signer: 'Signer', share: 'Share of the last blocks',
    healthy: 'Chain is healthy', stale: 'Chain is stale: no new block for', in_turn: 'In turn',
    unavailable: 'not served by this node',
    buy_title: 'Buy energy from a neighbour', buy_as: 'Buy as', buy_from: 'From',
    amount: 'Amount (Wh)', price: 'Price', pay: 'Pay', paying: 'Sending…', waiting: 'Waiting for a block…',
    with_wallet: 'with your wallet', with_node: 'with the node’s unlocked account',
    read_only: 'Read-only: no wallet in this browser and this node does not pay from its accounts (start it with --dashboard.buy, or use a wallet such as MetaMask).',
    no_sellers: 'Nobody has surplus energy right now.',
    bought_ok: 'Bought {energy} from {seller} for {price} in block {block}.',
    err_surplus: 'Insufficient surplus: {seller} has only {available} to sell.',
    err_funds: 'Insufficient funds: {buyer} has {balance}, the purchase needs {needed} with fees.',
    err_rejected: 'Rejected in the wallet.',
    err_amount: 'Enter a whole number of Wh above zero.',
    err_not_meter: 'The seller is not a registered household.',
    err_wrong_chain: 'The wallet is on chain {wallet}, this community is chain {node}.',
    err_failed: 'The purchase failed: {reason}',
    err_reverted: 'The transaction was mined but reverted (block {block}).',
    live_ws: 'live', live_poll: 'polling', offline: 'node unreachable',
    as_of_block: 'as of block', you: 'this board',
    how: 'How', by_hand: 'bought', settled: 'settled',
    escrow: 'Escrow for automatic purchases',
    nav_history: 'History', history_of: 'History of', period: 'Period', week: '7 days', month: '30 days', ending: 'ending',
    whole_community: 'The whole community', day: 'Day', sold_day: 'Sold', bought_day: 'Bought', readings: 'Readings', total: 'Total',
    days_in_zone: 'Days in the node’s time zone ({zone}), indexed to block {block}.',
    export_title: 'Export this household’s records', export_help: 'Every reading, sale and purchase of the period, for your accounts or to check a bill (energy in Wh, amounts in wei, times in UTC).',
    exporting: 'Exporting…', exported: '{n} records saved as {name}.',
    notice_silent: 'The {direction} sensor has been silent for {age}: check its battery and that it is within radio range of the board.',
    notice_battery: 'The {direction} sensor’s battery is low ({volts} V): replace it soon.',
    notice_corrupt: '{n} frames from the {direction} sensor were corrupt: check that the board has the sensor’s key, and for radio interference.',
    notice_outbox: '{n} readings are waiting to be sent{error}: check that the chain is sealing blocks and the board is connected.',
    notice_unsettleable: 'The market could not settle {n} interval(s), the last ending {time} UTC ({reason}): tell the community’s administrator.',
    notice_silent_meter: 'The {direction} meter ({source}) has been silent for {age}: check its cable (or its network) and that it is powered.',
    notice_corrupt_meter: '{n} frames or answers from the {direction} meter ({source}) could not be read: check the cable, the speed and the meter’s mode.',
    notice_unreachable: 'The {direction} meter ({source}) failed to answer {n} times: check its address, its wiring or network, and its settings.',
    notice_rebased: 'The meter’s register was taken as a new baseline {n} times (a new meter, a reset, a misread): nothing was counted across it.',
    meter_sources: 'This board’s sensors', sensor_source: 'source', sensor_direction: 'direction', sensor_read: 'read', sensor_unread: 'dropped',
    unread_corrupt: 'corrupt', unread_implausible: 'implausible', unread_duplicates: 'duplicates', unread_overruns: 'overruns', unread_timeouts: 'timeouts', unread_refused: 'refused',
    grid_sensor: 'grid',
    clock_behind: 'This board’s clock is {age} behind the chain: check NTP or the real-time clock (it catches up by itself once the time is right).',
    clock_ahead: 'This board’s clock is {age} ahead of its peers’: it does not seal until NTP sets it right.',
    storage_failed: 'This board cannot write to its database (a full or failing SD card?): it stopped sealing and keeps readings in memory. Free space, then restart the node.',
    upgrade_scheduled: 'The community has scheduled a chain upgrade this board lacks: get the new genesis file and run daisee init --upgrade before it, or the board stops there.',
    upgrade_stopped: 'The chain has upgraded and this board has not: it stopped sealing. Get the new genesis file and run daisee init --upgrade.',
    peer: 'Peer', direction: 'Connection', inbound: 'they dialled', outbound: 'we dialled', no_peers: 'No peer connected: this board is alone.',
    production_sensor: 'production', consumption_sensor: 'consumption', never: 'as long as the board has run',
  },
  fr: {
    title: 'Daisee — communauté d’énergie',
    nav_home: 'Foyer', nav_community: 'Communauté', nav_chain: 'Chaîne', nav_buy: 'Acheter',
    household: 'Foyer', choose_household: 'Choisir un foyer',
    produced_today: 'Produit aujourd’hui', consumed_today: 'Consommé aujourd’hui',
    surplus: 'Excédent', deficit: 'Déficit', balanced: 'À l’équilibre',
    sold: 'Vendu (24 h)', bought: 'Acheté (24 h)', received: 'reçus', paid: 'payés',
    total_produced: 'Production totale', total_consumed: 'Consommation totale',
    last_reading: 'Dernière mesure', battery: 'Pile du capteur', not_this_board: 'compteur d’une autre carte',
    ago: 'il y a', interval_end: 'intervalle jusqu’à',
    last_24h: 'Dernières 24 h, par intervalle', production: 'Production', consumption: 'Consommation',
    no_readings: 'Pas encore de mesure : les compteurs envoient à chaque intervalle.',
    meters: 'Foyers', address: 'Foyer', net: 'Solde net',
    community_chart: 'Production de la communauté (empilée par foyer) et consommation',
    trades: 'Échanges', buyer: 'Acheteur', seller: 'Vendeur', energy: 'Énergie', price_paid: 'Prix payé',
    block: 'Bloc', time: 'Heure', no_trades: 'Aucun échange ces dernières 24 h.', rate: 'Tarif',
    head: 'Tête', hash: 'Empreinte', age: 'Âge', block_time: 'Temps de bloc', peers: 'Pairs',
    pending: 'Transactions en attente', signers: 'Signataires', signer: 'Signataire', share: 'Part des derniers blocs',
    healthy: 'La chaîne est en bonne santé', stale: 'La chaîne est figée : aucun bloc depuis', in_turn: 'À son tour',
    unavailable: 'non servi par ce nœud',
    buy_title: 'Acheter de l’énergie à un voisin', buy_as: 'Acheter en tant que', buy_from: 'Auprès de',
    amount: 'Quantité (Wh)', price: 'Prix', pay: 'Payer', paying: 'Envoi…', waiting: 'En attente d’un bloc…',
    with_wallet: 'avec votre portefeuille', with_node: 'avec le compte déverrouillé du nœud',
    read_only: 'Lecture seule : pas de portefeuille dans ce navigateur et ce nœud ne paie pas depuis ses comptes (lancez-le avec --dashboard.buy, ou utilisez un portefeuille comme MetaMask).',
    no_sellers: 'Personne n’a d’excédent pour l’instant.',
    bought_ok: '{energy} achetés à {seller} pour {price} dans le bloc {block}.',
    err_surplus: 'Excédent insuffisant : {seller} n’a que {available} à vendre.',
    err_funds: 'Fonds insuffisants : {buyer} a {balance}, l’achat demande {needed} avec les frais.',
    err_rejected: 'Refusé dans le portefeuille.',
    err_amount: 'Entrez un nombre entier de Wh supérieur à zéro.',
    err_not_meter: 'Le vendeur n’est pas un foyer enregistré.',
    err_wrong_chain: 'Le portefeuille est sur la chaîne {wallet}, cette communauté est la chaîne {node}.',
    err_failed: 'L’achat a échoué : {reason}',
    err_reverted: 'La transaction a été minée mais annulée (bloc {block}).',
    live_ws: 'en direct', live_poll: 'interrogation', offline: 'nœud injoignable',
    as_of_block: 'au bloc', you: 'cette carte',
    how: 'Comment', by_hand: 'achat', settled: 'réglé',
    escrow: 'Provision pour les achats automatiques',
    nav_history: 'Historique', history_of: 'Historique de', period: 'Période', week: '7 jours', month: '30 jours', ending: 'jusqu’au',
    whole_community: 'Toute la communauté', day: 'Jour', sold_day: 'Vendu', bought_day: 'Acheté', readings: 'Mesures', total: 'Total',
    days_in_zone: 'Jours dans le fuseau horaire du nœud ({zone}), indexés jusqu’au bloc {block}.',
    export_title: 'Exporter les relevés de ce foyer', export_help: 'Chaque mesure, vente et achat de la période, pour vos comptes ou vérifier une facture (énergie en Wh, montants en wei, heures en UTC).',
    exporting: 'Export…', exported: '{n} relevés enregistrés dans {name}.',
    notice_silent: 'Le capteur de {direction} est muet depuis {age} : vérifiez sa pile et qu’il est à portée radio de la carte.',
    notice_battery: 'La pile du capteur de {direction} est faible ({volts} V) : remplacez-la bientôt.',
    notice_corrupt: '{n} trames du capteur de {direction} étaient corrompues : vérifiez que la carte a la clé du capteur, et les interférences radio.',
    notice_outbox: '{n} mesures attendent d’être envoyées{error} : vérifiez que la chaîne scelle des blocs et que la carte est connectée.',
    notice_unsettleable: 'Le marché n’a pas pu régler {n} intervalle(s), le dernier finissant le {time} UTC ({reason}) : prévenez l’administrateur de la communauté.',
    notice_silent_meter: 'Le compteur de {direction} ({source}) est muet depuis {age} : vérifiez son câble (ou son réseau) et qu’il est alimenté.',
    notice_corrupt_meter: '{n} trames ou réponses du compteur de {direction} ({source}) étaient illisibles : vérifiez le câble, la vitesse et le mode du compteur.',
    notice_unreachable: 'Le compteur de {direction} ({source}) n’a pas répondu {n} fois : vérifiez son adresse, son câblage ou son réseau, et ses réglages.',
    notice_rebased: 'L’index du compteur a été pris comme nouvelle base {n} fois (nouveau compteur, remise à zéro, erreur de lecture) : rien n’a été compté à travers.',
    meter_sources: 'Les capteurs de cette carte', sensor_source: 'source', sensor_direction: 'sens', sensor_read: 'lues', sensor_unread: 'écartées',
    unread_corrupt: 'corrompues', unread_implausible: 'invraisemblables', unread_duplicates: 'doublons', unread_overruns: 'débordements', unread_timeouts: 'sans réponse', unread_refused: 'refusées',
    grid_sensor: 'réseau',
    clock_behind: 'L’horloge de cette carte retarde de {age} sur la chaîne : vérifiez NTP ou l’horloge temps réel (elle se rattrape d’elle-même une fois l’heure juste).',
    clock_ahead: 'L’horloge de cette carte avance de {age} sur ses pairs : elle ne scelle plus jusqu’à ce que NTP la remette à l’heure.',
    storage_failed: 'Cette carte ne peut plus écrire dans sa base (carte SD pleine ou défaillante ?) : elle ne scelle plus et garde les relevés en mémoire. Libérez de la place, puis redémarrez le nœud.',
    upgrade_scheduled: 'La communauté a programmé une mise à niveau de la chaîne que cette carte n’a pas : récupérez le nouveau fichier genesis et lancez daisee init --upgrade avant, sinon la carte s’arrêtera là.',
    upgrade_stopped: 'La chaîne a été mise à niveau et pas cette carte : elle ne scelle plus. Récupérez le nouveau fichier genesis et lancez daisee init --upgrade.',
    peer: 'Pair', direction: 'Connexion', inbound: 'entrante', outbound: 'sortante', no_peers: 'Aucun pair connecté : cette carte est seule.',
    production_sensor: 'production', consumption_sensor: 'consommation', never: 'le démarrage de la carte',
  },
};

let current = localStorage.getItem('daisee.lang') || (navigator.language || 'en').slice(0, 2);
if (!STRINGS[current]) current = 'en';

/** The current language code. */
export const lang = () => current;

/** Switches language (remembered). */
export function setLang(code) {
  if (STRINGS[code]) {
    current = code;
    localStorage.setItem('daisee.lang', code);
  }
}

/** The text for `key`, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}

/** Every language's keys, for the test that checks none is missing. */
export const LANGUAGES = Object.keys(STRINGS);
